"""Key mapping between the official umT5 encoder file and transformers' `UMT5EncoderModel`.

A 1:1 rename with no reshapes. HF ties `shared.weight` and `encoder.embed_tokens.weight`;
both come from `token_embedding.weight`. Used as a parity oracle in tests and to import
HF-format umT5 weights.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

_BLOCK_RENAMES: tuple[tuple[str, str], ...] = (
    ("norm1.weight", "layer.0.layer_norm.weight"),
    ("attn.q.weight", "layer.0.SelfAttention.q.weight"),
    ("attn.k.weight", "layer.0.SelfAttention.k.weight"),
    ("attn.v.weight", "layer.0.SelfAttention.v.weight"),
    ("attn.o.weight", "layer.0.SelfAttention.o.weight"),
    ("pos_embedding.embedding.weight", "layer.0.SelfAttention.relative_attention_bias.weight"),
    ("norm2.weight", "layer.1.layer_norm.weight"),
    # official `gate` is the GELU branch (HF wi_0); `fc1` the linear branch (HF wi_1)
    ("ffn.gate.0.weight", "layer.1.DenseReluDense.wi_0.weight"),
    ("ffn.fc1.weight", "layer.1.DenseReluDense.wi_1.weight"),
    ("ffn.fc2.weight", "layer.1.DenseReluDense.wo.weight"),
)
_OFFICIAL_TO_HF_BLOCK = dict(_BLOCK_RENAMES)
_HF_TO_OFFICIAL_BLOCK = {hf: official for official, hf in _BLOCK_RENAMES}

_OFFICIAL_BLOCK = re.compile(r"^blocks\.(\d+)\.(.+)$")
_HF_BLOCK = re.compile(r"^encoder\.block\.(\d+)\.(.+)$")

HF_TIED_EMBEDDING_KEYS = ("shared.weight", "encoder.embed_tokens.weight")


def official_to_hf_key(key: str) -> str:
    """Official key -> HF `UMT5EncoderModel` key (`token_embedding.weight` -> `shared.weight`)."""
    if key == "token_embedding.weight":
        return "shared.weight"
    if key == "norm.weight":
        return "encoder.final_layer_norm.weight"
    m = _OFFICIAL_BLOCK.match(key)
    if m and m.group(2) in _OFFICIAL_TO_HF_BLOCK:
        return f"encoder.block.{m.group(1)}.{_OFFICIAL_TO_HF_BLOCK[m.group(2)]}"
    raise KeyError(f"not an official umT5 encoder key: {key!r}")


def hf_to_official_key(key: str) -> str:
    """HF `UMT5EncoderModel` key -> official key; both tied embedding names map to `token_embedding.weight`."""
    if key in HF_TIED_EMBEDDING_KEYS:
        return "token_embedding.weight"
    if key == "encoder.final_layer_norm.weight":
        return "norm.weight"
    m = _HF_BLOCK.match(key)
    if m and m.group(2) in _HF_TO_OFFICIAL_BLOCK:
        return f"blocks.{m.group(1)}.{_HF_TO_OFFICIAL_BLOCK[m.group(2)]}"
    raise KeyError(f"not an HF UMT5EncoderModel key: {key!r}")


def official_to_hf_state_dict(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename every tensor; the embedding is emitted under both tied HF names."""
    out = {official_to_hf_key(k): v for k, v in sd.items()}
    if "shared.weight" in out:
        out["encoder.embed_tokens.weight"] = out["shared.weight"]
    return out


def hf_to_official_state_dict(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename every tensor; the tied embedding collapses to one `token_embedding.weight`."""
    out: dict[str, torch.Tensor] = {}
    for k, v in sd.items():
        name = hf_to_official_key(k)
        if name in out and out[name] is not v and not torch.equal(out[name], v):
            raise ValueError(
                f"HF keys for {name!r} hold different tensors; untied embeddings are not umT5"
            )
        out[name] = v
    return out
