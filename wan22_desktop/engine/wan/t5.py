"""The umT5 encoder used by Wan2.2 as its text encoder: modules and math only.

Parameter names are exactly those of the official `models_t5_umt5-xxl-enc-bf16.pth`
(`token_embedding`, `blocks.N.{norm1,attn.{q,k,v,o},norm2,ffn.{gate.0,fc1,fc2},pos_embedding.embedding}`,
`norm`), so that file loads with strict=True and no renaming. Shapes in comments:
B batch, L tokens, H heads, D head dim, C model dim.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from .t5_config import T5Config


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """GELU, tanh approximation, written out as the official code and HF `gelu_new` do (bit-identical to both)."""
    return (
        0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    )


def relative_position_buckets(
    query_len: int,
    key_len: int,
    num_buckets: int,
    max_distance: int,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Bidirectional T5 buckets of (key_pos - query_pos): [Lq, Lk] int64.

    Half the buckets hold keys after the query. In each half, distances below a quarter of
    num_buckets get their own bucket; larger ones share log-spaced buckets up to max_distance.
    The float op order matches the official and HF code so boundary cases land in the same bucket.
    """
    rel = (
        torch.arange(key_len, device=device)[None, :]
        - torch.arange(query_len, device=device)[:, None]
    )
    half = num_buckets // 2
    max_exact = half // 2
    side = (rel > 0).long() * half
    dist = rel.abs()
    # clamp only guards log(0); those entries take the exact branch below anyway
    log_ratio = torch.log(dist.clamp(min=1).float() / max_exact) / math.log(
        max_distance / max_exact
    )
    large = max_exact + (log_ratio * (half - max_exact)).long()
    large = large.clamp(max=half - 1)
    return side + torch.where(dist < max_exact, dist, large)


class T5LayerNorm(nn.Module):
    """T5's RMS norm: no mean subtraction, no bias; statistics in fp32 whatever the weight dtype."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * torch.rsqrt(x.float().pow(2).mean(dim=-1, keepdim=True) + self.eps)
        # Official order: cast the normalized fp32 value to a half weight dtype, then scale.
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            x = x.type_as(self.weight)
        return self.weight * x


class T5RelativeEmbedding(nn.Module):
    """One learned bias per (bucket, head); umT5 has one of these in every layer."""

    def __init__(self, num_buckets: int, num_heads: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_buckets, num_heads)

    def forward(self, buckets: torch.Tensor) -> torch.Tensor:
        # buckets [Lq, Lk] -> bias [1, H, Lq, Lk]
        return self.embedding(buckets).permute(2, 0, 1).unsqueeze(0)


class T5Attention(nn.Module):
    """Multi-head self-attention without bias terms and, as in T5, without 1/sqrt(D) scaling."""

    def __init__(self, dim: int, dim_attn: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim_attn // num_heads
        self.q = nn.Linear(dim, dim_attn, bias=False)
        self.k = nn.Linear(dim, dim_attn, bias=False)
        self.v = nn.Linear(dim, dim_attn, bias=False)
        self.o = nn.Linear(dim_attn, dim, bias=False)

    def forward(
        self, x: torch.Tensor, bias: torch.Tensor, softmax_width: int | None = None
    ) -> torch.Tensor:
        # x [B, L, C]; bias [B or 1, H, L, L] (position bias with padded keys at dtype min)
        # softmax_width: run the softmax over this many keys, the missing ones at the fp32
        # minimum (exact zeros after exp), so a trimmed run sums in the same order as the
        # padded one (CPU reductions are vectorised by row length) and stays bit-identical.
        b, n, h, d = x.size(0), x.size(1), self.num_heads, self.head_dim
        q = self.q(x).view(b, n, h, d)
        k = self.k(x).view(b, n, h, d)
        v = self.v(x).view(b, n, h, d)
        scores = torch.einsum("binc,bjnc->bnij", q, k) + bias  # [B, H, L, L]
        # softmax in fp32 even for a bf16 model, as the official code does
        wide = scores.float()
        if softmax_width is not None and softmax_width > n:
            wide = F.pad(wide, (0, softmax_width - n), value=torch.finfo(torch.float32).min)
        weights = F.softmax(wide, dim=-1)[..., :n].type_as(scores)
        out = torch.einsum("bnij,bjnc->binc", weights, v).reshape(b, n, h * d)
        return self.o(out)


class T5FeedForward(nn.Module):
    """Gated GELU: fc2(fc1(x) * gelu_tanh(gate(x))). `gate` is a Sequential so its key is `gate.0.weight`."""

    def __init__(self, dim: int, dim_ffn: int) -> None:
        super().__init__()
        self.gate = nn.Sequential(nn.Linear(dim, dim_ffn, bias=False), _GeluTanh())
        self.fc1 = nn.Linear(dim, dim_ffn, bias=False)
        self.fc2 = nn.Linear(dim_ffn, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.fc1(x) * self.gate(x))


class _GeluTanh(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gelu_tanh(x)


def _fp16_clamp(x: torch.Tensor) -> torch.Tensor:
    """fp16 only: pull infinities back into range (the official guard; a no-op for bf16/fp32)."""
    if x.dtype == torch.float16 and torch.isinf(x).any():
        limit = torch.finfo(x.dtype).max - 1000
        x = x.clamp(min=-limit, max=limit)
    return x


class T5Block(nn.Module):
    """Pre-norm layer: x + attn(norm1(x)), then x + ffn(norm2(x)), with this layer's own position table."""

    def __init__(self, cfg: T5Config) -> None:
        super().__init__()
        self.norm1 = T5LayerNorm(cfg.dim, cfg.eps)
        self.attn = T5Attention(cfg.dim, cfg.dim_attn, cfg.num_heads)
        self.norm2 = T5LayerNorm(cfg.dim, cfg.eps)
        self.ffn = T5FeedForward(cfg.dim, cfg.dim_ffn)
        self.pos_embedding = T5RelativeEmbedding(cfg.num_buckets, cfg.num_heads)

    def forward(
        self,
        x: torch.Tensor,
        buckets: torch.Tensor,
        key_mask: torch.Tensor | None,
        softmax_width: int | None = None,
    ) -> torch.Tensor:
        # x [B, L, C]; buckets [L, L]; key_mask [B, L] bool (True = real token) or None
        bias = self.pos_embedding(buckets).to(x.dtype)  # [1, H, L, L]
        if key_mask is not None:
            # overwrite (not add) padded keys with the dtype minimum, as the official code does
            bias = bias.masked_fill(~key_mask[:, None, None, :], torch.finfo(x.dtype).min)
        x = _fp16_clamp(x + self.attn(self.norm1(x), bias, softmax_width))
        return _fp16_clamp(x + self.ffn(self.norm2(x)))


class T5Encoder(nn.Module):
    """umT5 encoder: token lookup (no scaling), N blocks, final RMS norm. Inference only (no dropout)."""

    def __init__(self, cfg: T5Config) -> None:
        super().__init__()
        self.config = cfg
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.blocks = nn.ModuleList(T5Block(cfg) for _ in range(cfg.num_layers))
        self.norm = T5LayerNorm(cfg.dim, cfg.eps)

    def forward(
        self,
        ids: torch.Tensor,
        mask: torch.Tensor | None = None,
        compute_dtype: torch.dtype | None = None,
        softmax_width: int | None = None,
    ) -> torch.Tensor:
        # ids [B, L] int64; mask [B, L] (nonzero = real token) or None -> [B, L, C]
        # compute_dtype: run each layer with its weights cast to it, one layer at a time (bf16
        # weights computed in fp32 on a CPU without bf16 units); None: the weights' own dtype.
        # softmax_width: the padded length a trimmed run must match bit for bit (T5Attention).
        x = self.token_embedding(ids)
        n = ids.size(1)
        buckets = relative_position_buckets(
            n, n, self.config.num_buckets, self.config.max_distance, ids.device
        )
        key_mask = None if mask is None else mask.ne(0)
        if compute_dtype is None:
            for block in self.blocks:
                x = block(x, buckets, key_mask, softmax_width)
            return self.norm(x)
        x = x.to(compute_dtype)
        for block in self.blocks:
            x = _call_as(block, compute_dtype, x, buckets, key_mask, softmax_width)
        return _call_as(self.norm, compute_dtype, x)


def _call_as(module: nn.Module, dtype: torch.dtype, *args: object) -> torch.Tensor:
    """``module(*args)`` with its floating parameters cast to ``dtype`` for this call only."""
    params = {
        k: v.to(dtype) if v.is_floating_point() else v
        for k, v in module.named_parameters(remove_duplicate=False)
    }
    out: torch.Tensor = functional_call(module, params, args)
    return out
