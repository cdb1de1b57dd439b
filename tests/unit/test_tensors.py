"""Tests of rmtweights.tensors: which tensors are layers, and of which kind (no torch needed)."""

from __future__ import annotations

import pytest

from rmtweights.tensors import (
    BUFFER_DTYPES,
    WEIGHT_DTYPES,
    SkippedTensor,
    TensorPart,
    classify,
    gate_up_axis,
    natural_key,
    plan_tensors,
    shape_text,
    skip_group,
    strip_wrapper_prefixes,
)


@pytest.mark.parametrize("name,shape,dtype,kind", [
    ("encoder.layer.0.attention.self.query.weight", (768, 768), "float32", "linear"),
    ("h.0.attn.c_attn.weight", (768, 2304), "float16", "attention"),  # GPT-2 Conv1D (in x out), fused q, k, v
    ("h.0.mlp.c_fc.weight", (768, 3072), "float16", "linear"),  # GPT-2 Conv1D
    ("bert.embeddings.word_embeddings.weight", (30522, 768), "float32", "embedding"),
    ("transformer.wte.weight", (50257, 768), "bfloat16", "embedding"),
    ("lm_head.weight", (50257, 768), "float32", "embedding"),
    ("model.embed_tokens.weight", (32000, 4096), "bfloat16", "embedding"),
    ("output.weight", (32000, 4096), "float16", "embedding"),  # Meta LLaMA head, top level only
    ("layers.0.attention.output.weight", (64, 64), "float32", "linear"),
    ("attn.in_proj_weight", (192, 64), "float32", "attention"),  # nn.MultiheadAttention
    ("model.layers.0.self_attn.qkv_proj.weight", (9216, 3072), "bfloat16", "attention"),  # Phi-3
    ("gpt_neox.layers.0.attention.query_key_value.weight", (12288, 4096), "float16", "attention"),
    ("blk.0.attn_qkv.weight", (3072, 1024), "float16", "attention"),  # llama.cpp
    ("token_embd.weight", (32000, 4096), "float16", "embedding"),  # llama.cpp
    ("conv.weight", (8, 4, 5), "float32", "conv1d"),
    ("features.0.weight", (64, 3, 3, 3), "float32", "conv"),
    ("blocks.0.conv1.weight", (2048, 1024, 1, 1, 1), "bfloat16", "conv3d"),  # a 1x1x1 conv3d: a matrix
    ("stem.weight", (64, 3, 3, 7, 7), "float32", "conv3d"),
    ("x.weight", (2, 2, 2, 2, 2, 2), "float32", "conv4d"),
    ("model.layers.0.mlp.experts.gate_up_proj", (8, 256, 1024), "bfloat16", "expert"),  # Hugging Face MoE
    ("model.layers.0.mlp.experts.down_proj", (8, 512, 256), "bfloat16", "expert"),
    ("blk.0.ffn_down_exps.weight", (8, 4096, 14336), "float16", "expert"),  # llama.cpp
    ("layers.0.moe.w1", (8, 64, 32), "float32", "expert"),
])
def test_classify_layers(name, shape, dtype, kind):
    assert classify(name, shape, dtype) == (kind, "")


@pytest.mark.parametrize("name,shape,dtype,needle", [
    ("h.0.ln_1.bias", (768,), "float32", "1-d tensor"),
    ("bn.weight", (64,), "float32", "1-d tensor"),
    ("embeddings.position_ids", (1, 512), "int64", "int64 buffer"),
    ("h.0.attn.bias", (1, 1, 1024, 1024), "bool", "bool buffer"),
    ("pos_embed", (1, 197, 768), "float32", "not a weight"),
    ("experts.gate_up_proj_bias", (8, 1024), "float32", "not a weight"),  # an expert stack's biases: 2-d
    ("scale", (), "float32", "scalar"),
])
def test_classify_skips_with_a_reason(name, shape, dtype, needle):
    kind, reason = classify(name, shape, dtype)
    assert kind is None and needle in reason


def test_strip_wrapper_prefixes():
    assert strip_wrapper_prefixes("module._orig_mod.module.fc.weight") == "fc.weight"
    assert strip_wrapper_prefixes("encoder.module.fc.weight") == "encoder.module.fc.weight"  # only leading ones
    assert strip_wrapper_prefixes("modules.0.weight") == "modules.0.weight"


def test_dtype_tables_are_disjoint():
    assert not set(WEIGHT_DTYPES) & set(BUFFER_DTYPES)


def test_declared_experts():
    """A 3-d tensor the name patterns do not catch is an expert stack when the config declares it."""
    assert classify("layers.0.ffn.w_in", (4, 32, 64), "float32") == (None, "not a weight (its name does not end "
                                                                          "in 'weight')")
    assert classify("layers.0.ffn.w_in", (4, 32, 64), "float32", experts=r"ffn\.w_") == ("expert", "")
    assert classify("layers.0.ffn.w_in", (4, 32, 64), "float32", experts=[r"nomatch", r"w_in$"]) == ("expert", "")
    assert classify("ffn.weight", (4, 32, 64), "float32", experts=r"nomatch") == ("conv1d", "")


def test_plan_expert_stacks_and_splits():
    entries = [("mlp.experts.gate_up_proj", (8, 256, 1024), "bfloat16"), ("mlp.experts.down_proj", (8, 512, 256),
                                                                           "bfloat16"),
               ("attn.c_attn.weight", (64, 192), "float32"), ("attn.c_attn.bias", (192,), "float32")]
    plan = plan_tensors(entries)
    layers = [p.layer for p in plan if isinstance(p, TensorPart)]
    assert layers == [f"mlp.experts.gate_up_proj[{e}]" for e in range(8)] + \
        [f"mlp.experts.down_proj[{e}]" for e in range(8)] + ["attn.c_attn"]
    assert all(p.expert == int(p.layer[-2]) for p in plan if isinstance(p, TensorPart) and p.kind == "expert")
    assert isinstance(plan[-1], SkippedTensor) and "bias" in plan[-1].reason
    split = [p for p in plan_tensors(entries, split_qkv=True, split_gate_up=True) if isinstance(p, TensorPart)]
    names = [p.layer for p in split]
    assert names[:2] == ["mlp.experts.gate_up_proj[0][gate]", "mlp.experts.gate_up_proj[0][up]"]
    # gate_up (E, h, 2i) beside down (E, i, h): the in x out layout, halves along the last axis
    assert split[0].split == (1, 0, 2) and split[1].split == (1, 1, 2)
    assert names[-3:] == ["attn.c_attn[q]", "attn.c_attn[k]", "attn.c_attn[v]"]
    assert [p.split for p in split[-3:]] == [(1, 0, 3), (1, 1, 3), (1, 2, 3)]  # 64 x 192: thirds of axis 1
    assert len(split) == 16 + 8 + 3


def test_interleaved_and_uneven_qkv_stay_fused():
    plan = plan_tensors([("a.query_key_value.weight", (192, 64), "float32"),  # GPT-NeoX: heads interleaved
                         ("b.qkv_proj.weight", (96, 64), "float32")], split_qkv=True)  # grouped-query: not 3 : 1
    assert [(p.layer, p.split) for p in plan] == [("a.query_key_value", None), ("b.qkv_proj", None)]


@pytest.mark.parametrize("shape, down, axis", [
    ((256, 1024), (512, 256), 1),  # in x out (Llama 4): (h, 2i) beside (i, h)
    ((1024, 256), (256, 512), 0),  # out x in (torch Linear, HF fused experts): (2i, h) beside (h, i)
    ((256, 1024), None, 1),  # no down projection: the last even axis
    ((1024, 255), None, 0),
    ((255, 255), None, None),
])
def test_gate_up_axis(shape, down, axis):
    assert gate_up_axis(shape, down) == axis


def test_natural_key_orders_blocks_and_puts_weights_first():
    names = ["layers.10.fc.weight", "layers.2.fc.bias", "layers.2.fc.weight", "embed.weight", "layers.1.fc.weight"]
    assert sorted(names, key=natural_key) == ["embed.weight", "layers.1.fc.weight", "layers.2.fc.weight",
                                              "layers.2.fc.bias", "layers.10.fc.weight"]


@pytest.mark.parametrize("args, text", [
    (((80, 40), 80, 40, "linear"), "80×40 matrix"),
    (((10, 84), 84, 10, "linear"), "10×84 matrix"),
    (("8x1x5x5", 40, 5, "conv"), "8×1×5×5 kernel → 40×5 matrix"),
    (("8x1x5x5", 8, 1, "conv", "slices"), "8×1×5×5 kernel → 25 slices 8×1"),
    (((2048, 1024, 1, 1, 1), 2048, 1024, "conv3d"), "2048×1024×1×1×1 kernel → 2048×1024 matrix"),
    (((8, 256, 1024), 1024, 256, "expert"), "8×256×1024 expert stack → 1024×256 matrix"),
    (((64, 192), 64, 64, "attention"), "64×192 fused q,k,v → 64×64 matrix"),
    (((48,), 0, 0, "other"), "48"),
])
def test_shape_text(args, text):
    assert shape_text(*args) == text


def test_skip_groups():
    assert skip_group(classify("b", (3,), "float32")[1]) == "biases and norms"
    assert skip_group(classify("ids", (3, 4), "int64")[1]) == "integer and bool buffers"
    assert skip_group("m=5 <= min_dim=10: too few singular values for a spectral fit") == "too few singular values"
    assert skip_group("something new") == "something new"
