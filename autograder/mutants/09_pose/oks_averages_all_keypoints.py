# mutant: divides by the number of all keypoints, labelled or not
# cell: oks
# fails: test_oks
@@
-    return similarity[labelled].mean().item()
+    return (similarity * labelled).sum().item() / len(similarity)
