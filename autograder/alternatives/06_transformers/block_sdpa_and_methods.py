# alternative: F.scaled_dot_product_attention, helper methods, the mlp built from a list
# cell: transformer_block
class TransformerBlock(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=4.0, pre_norm=True):
        super().__init__()
        self.num_heads, self.pre_norm = num_heads, pre_norm
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        layers = [nn.Linear(dim, int(dim * mlp_ratio)), nn.GELU(), nn.Linear(int(dim * mlp_ratio), dim)]
        self.mlp = nn.Sequential(*layers)

    def heads(self, z):
        b, t, _ = z.shape
        return z.view(b, t, self.num_heads, -1).transpose(1, 2)

    def attend(self, z):
        b, t, d = z.shape
        q, k, v = map(self.heads, self.qkv(z).split(d, dim=-1))
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, t, d))

    def forward(self, x):
        if not self.pre_norm:
            x = self.norm1(x + self.attend(x))
            return self.norm2(x + self.mlp(x))
        x = x + self.attend(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x
