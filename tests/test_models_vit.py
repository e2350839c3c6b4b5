"""Tests of course_utils.models.vit: shapes, the embedding count, and attention maps."""
import pytest
import torch
import torchvision

from course_utils.models import vit as V
from course_utils.models.transformer import TransformerBlock
from course_utils.ops.patches import patchify


def test_vit_shapes_and_gradients():
    model = V.ViT(16, 4, 1, 10, dim=32, depth=2, num_heads=4, mlp_ratio=2.0)
    out = model(torch.randn(3, 1, 16, 16))
    assert out.shape == (3, 10) and torch.isfinite(out).all()
    out.square().sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_patch_embedding_is_linear_on_patches():
    embed = V.PatchEmbedding(12, 4, 3, 5)
    x = torch.randn(2, 3, 12, 12)
    expected = patchify(x, 4) @ embed.proj.weight.reshape(5, -1).T + embed.proj.bias
    torch.testing.assert_close(embed(x), expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError):
        embed(torch.zeros(1, 3, 8, 8))


@pytest.mark.parametrize("args", [(224, 16, 3, 768), (16, 4, 1, 32), (384, 16, 3, 1024), (32, 8, 3, 7)])
def test_embedding_size_matches_a_built_model(args):
    image, patch, channels, dim = args
    n, params = V.vit_embedding_size(*args)
    assert (n, params) == V._embedding_size_twin(*args)
    model = V.ViT(image, patch, channels, 1, dim=dim, depth=1, num_heads=1)
    counted = sum(p.numel() for p in model.patch_embed.parameters()) + model.cls_token.numel() + model.pos_embed.numel()
    assert (n, params) == (model.patch_embed.num_patches, counted)


def test_embedding_size_of_torchvision_vit_b_16():
    with torch.device("meta"):
        tv = torchvision.models.vit_b_16()
    counted = sum(p.numel() for p in tv.conv_proj.parameters()) + tv.class_token.numel() + tv.encoder.pos_embedding.numel()
    assert V.vit_embedding_size(224, 16, 3, 768) == (196, counted)
    with pytest.raises(ValueError):
        V.vit_embedding_size(225, 16, 3, 768)


def test_whole_vit_b_16_parameter_count_matches_torchvision():
    with torch.device("meta"):
        ours = V.ViT(**{k: v for k, v in V.VIT_CONFIGS["ViT-B/16"].items()})
        tv = torchvision.models.vit_b_16()
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in tv.parameters())


def test_attention_maps_and_rollout():
    model = V.ViT(16, 4, 1, 10, dim=32, depth=3, num_heads=4).eval()
    x = torch.randn(2, 1, 16, 16)
    maps = V.attention_maps(model, x)
    assert len(maps) == 3 and maps[0].shape == (2, 4, 17, 17)
    torch.testing.assert_close(maps[0].sum(-1), torch.ones(2, 4, 17))
    _, weights = model.blocks[0].attention(model.blocks[0].norm1(model.embed(x)))
    torch.testing.assert_close(maps[0], weights.detach())
    rollout = V.attention_rollout(maps)
    assert rollout.shape == (2, 17, 17)
    torch.testing.assert_close(rollout.sum(-1), torch.ones(2, 17))
    with pytest.raises(ValueError):
        V.attention_maps(V.ViT(16, 4, 1, 10, dim=32, depth=1, num_heads=4, pre_norm=False), x)


def test_custom_block_factory_is_used():
    built = []

    def block(dim, heads, mlp_ratio, pre_norm):
        built.append(dim)
        return TransformerBlock(dim, heads, mlp_ratio, pre_norm)

    V.ViT(16, 4, 1, 10, dim=32, depth=2, num_heads=4, block=block)
    assert built == [32, 32]
