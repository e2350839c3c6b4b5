# alternative: einsum per head, F.layer_norm / F.gelu / F.linear on the module's own weights
# cell: transformer_block
@@
-        def attention(z):
-            b, t, d = z.shape
-            q, k, v = self.qkv(z).chunk(3, dim=-1)  # 3 x [B, T, D]
-            q, k, v = (y.reshape(b, t, self.num_heads, d // self.num_heads).transpose(1, 2) for y in (q, k, v))
-            weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.num_heads), dim=-1)  # [B, h, T, T]
-            return self.proj((weights @ v).transpose(1, 2).reshape(b, t, d))
-
-        if self.pre_norm:
-            x = x + attention(self.norm1(x))
-            return x + self.mlp(self.norm2(x))
-        x = self.norm1(x + attention(x))
-        return self.norm2(x + self.mlp(x))
+        d = x.shape[-1]
+        h, dh = self.num_heads, d // self.num_heads
+
+        def ln(norm, z):
+            return F.layer_norm(z, (d,), norm.weight, norm.bias, norm.eps)
+
+        def attn(z):
+            qkv = F.linear(z, self.qkv.weight, self.qkv.bias)
+            q, k, v = (qkv[..., i * d:(i + 1) * d].unflatten(-1, (h, dh)) for i in range(3))  # [B, T, h, dh]
+            a = torch.einsum("bqhd,bkhd->bhqk", q, k).div(math.sqrt(dh)).softmax(-1)
+            out = torch.einsum("bhqk,bkhd->bqhd", a, v).flatten(-2)
+            return F.linear(out, self.proj.weight, self.proj.bias)
+
+        def mlp(z):
+            first, last = self.mlp[0], self.mlp[2]
+            return F.linear(F.gelu(F.linear(z, first.weight, first.bias)), last.weight, last.bias)
+
+        if self.pre_norm:
+            y = x + attn(ln(self.norm1, x))
+            return y + mlp(ln(self.norm2, y))
+        y = ln(self.norm1, x + attn(x))
+        return ln(self.norm2, y + mlp(y))
