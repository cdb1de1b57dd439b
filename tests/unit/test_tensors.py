"""Tests of rmtweights.tensors: which tensors are layers, and of which kind (no torch needed)."""

from __future__ import annotations

import pytest

from rmtweights.tensors import BUFFER_DTYPES, WEIGHT_DTYPES, classify, strip_wrapper_prefixes


@pytest.mark.parametrize("name,shape,dtype,kind", [
    ("encoder.layer.0.attention.self.query.weight", (768, 768), "float32", "linear"),
    ("h.0.attn.c_attn.weight", (768, 2304), "float16", "linear"),  # GPT-2 Conv1D (in x out)
    ("bert.embeddings.word_embeddings.weight", (30522, 768), "float32", "embedding"),
    ("transformer.wte.weight", (50257, 768), "bfloat16", "embedding"),
    ("lm_head.weight", (50257, 768), "float32", "embedding"),
    ("model.embed_tokens.weight", (32000, 4096), "bfloat16", "embedding"),
    ("output.weight", (32000, 4096), "float16", "embedding"),  # Meta LLaMA head, top level only
    ("layers.0.attention.output.weight", (64, 64), "float32", "linear"),
    ("attn.in_proj_weight", (192, 64), "float32", "linear"),
    ("conv.weight", (8, 4, 5), "float32", "conv1d"),
    ("features.0.weight", (64, 3, 3, 3), "float32", "conv"),
])
def test_classify_layers(name, shape, dtype, kind):
    assert classify(name, shape, dtype) == (kind, "")


@pytest.mark.parametrize("name,shape,dtype,needle", [
    ("h.0.ln_1.bias", (768,), "float32", "1-d tensor"),
    ("bn.weight", (64,), "float32", "1-d tensor"),
    ("embeddings.position_ids", (1, 512), "int64", "int64 buffer"),
    ("h.0.attn.bias", (1, 1, 1024, 1024), "bool", "bool buffer"),
    ("pos_embed", (1, 197, 768), "float32", "not a weight"),
    ("x.weight", (2, 2, 2, 2, 2), "float32", "5-d"),
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
