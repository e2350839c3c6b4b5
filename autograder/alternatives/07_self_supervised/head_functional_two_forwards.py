# alternative: F.relu, two separate forward passes, float() of the loss
# cell: projection_head
class ProjectionHead(nn.Module):
    def __init__(self, in_dim, hidden_dim, out_dim):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, out_dim)

    def forward(self, h):
        hidden = F.relu(self.fc1(h))
        return self.fc2(hidden)


def simclr_step(encoder, head, view1, view2, optimizer, loss_fn, temperature=0.5):
    for module in (encoder, head):
        module.train(True)
    z1 = head(encoder(view1))
    z2 = head(encoder(view2))
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(z1, z2, temperature)
    loss.backward()
    value = float(loss)
    optimizer.step()
    return value
