# alternative: asks PyTorch for the size of an empty tensor of that shape on the meta device
# cell: video_bytes
@@
-    return frames * height * width * channels * bytes_per_value
+    return torch.empty(channels, frames, height, width, device="meta").numel() * bytes_per_value
