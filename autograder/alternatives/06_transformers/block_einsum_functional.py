# alternative: einsum per head, F.layer_norm / F.gelu / F.linear on the module's own weights
# cell: transformer_block
class TransformerBlock(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=4.0, pre_norm=True):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.num_heads = num_heads
        self.pre_norm = pre_norm
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        d = x.shape[-1]
        h, dh = self.num_heads, d // self.num_heads

        def ln(norm, z):
            return F.layer_norm(z, (d,), norm.weight, norm.bias, norm.eps)

        def attn(z):
            qkv = F.linear(z, self.qkv.weight, self.qkv.bias)
            q, k, v = (qkv[..., i * d:(i + 1) * d].unflatten(-1, (h, dh)) for i in range(3))  # [B, T, h, dh]
            a = torch.einsum("bqhd,bkhd->bhqk", q, k).div(math.sqrt(dh)).softmax(-1)
            out = torch.einsum("bhqk,bkhd->bqhd", a, v).flatten(-2)
            return F.linear(out, self.proj.weight, self.proj.bias)

        def mlp(z):
            first, last = self.mlp[0], self.mlp[2]
            return F.linear(F.gelu(F.linear(z, first.weight, first.bias)), last.weight, last.bias)

        if self.pre_norm:
            y = x + attn(ln(self.norm1, x))
            return y + mlp(ln(self.norm2, y))
        y = ln(self.norm1, x + attn(x))
        return ln(self.norm2, y + mlp(y))
