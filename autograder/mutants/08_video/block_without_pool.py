# mutant: forgets the pooling layer
# cell: conv3d_block
# fails: test_conv3d_block_structure
@@
         nn.ReLU(),
-        nn.MaxPool3d(pool),
