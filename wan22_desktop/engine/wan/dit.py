"""The Wan2.2 diffusion transformer (``WanModel``): one module for TI2V-5B and both A14B experts.

Parameter names equal the official state-dict keys, so official safetensors load with
``strict=True``. Precision follows the caller's autocast context, with one code path:

* official mode: fp32 parameters, ``torch.autocast('cuda', dtype=torch.bfloat16)`` around the call.
  Linears/convs run in bf16; the residual stream is fp32 from the first residual add on; the time
  MLP, the modulation, the gated adds and the head run in fp32 ("fp32 islands", below);
  attention casts q/k/v to bf16 on CUDA like upstream.
* pure fp32 mode: no autocast (CPU, tests).

Shapes: B batch, S padded token count (``seq_len``), C = dim, H heads, D = head_dim.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, cast

import torch
import torch.nn.functional as F
from torch import nn

from .attention import attention, chosen_backend
from .dit_config import DiTConfig
from .rope import Grid, apply_rope, grid_freqs, rope_table

# q [B, Lq, H, D], k/v [B, Lk, H, D], k_lens [B] or None -> [B, Lq, H, D]
AttentionFn = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor
]


class SequenceParallel(Protocol):
    """The seam for sequence parallelism (implemented in ``parallel.py``): how the token axis is
    padded, split across ranks, attended over and gathered back. The DiT itself stays local."""

    def pad(self, seq_len: int, t: torch.Tensor) -> tuple[int, torch.Tensor]:
        """seq_len rounded up to a multiple of the world size; a per-token t padded to match."""
        ...

    def shard(
        self, x: torch.Tensor, e: torch.Tensor, e0: torch.Tensor, freqs: list[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """This rank's token slice of x, e, e0 and of the RoPE rotations (global positions)."""
        ...

    def attention(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, k_lens: torch.Tensor | None
    ) -> torch.Tensor:
        """Self-attention over the whole sequence from this rank's slice of q, k, v."""
        ...

    def gather(self, x: torch.Tensor) -> torch.Tensor:
        """All ranks' token slices, concatenated in order."""
        ...


def sinusoid(dim: int, t: torch.Tensor) -> torch.Tensor:
    """[cos(t·ω), sin(t·ω)] with ω_j = 10000^(−j/(dim/2)), in float64 like upstream: [N, dim]."""
    half = dim // 2
    t = t.to(torch.float64)
    omega = torch.pow(10000.0, -torch.arange(half, dtype=torch.float64, device=t.device) / half)
    angles = torch.outer(t, omega)
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)


def _no_autocast(x: torch.Tensor) -> AbstractContextManager[None]:
    """fp32 island: the outer autocast must not pull these matmuls down to bf16."""
    return torch.autocast(device_type=x.device.type, enabled=False)


def _linear32(layer: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """Linear in fp32 whatever the parameter dtype (what upstream gets from autocast(float32))."""
    bias = None if layer.bias is None else layer.bias.float()
    return F.linear(x.float(), layer.weight.float(), bias)


class RMSNorm(nn.Module):
    """Normalises in fp32, casts back to the input dtype, then scales (so fp32 weight → fp32 out)."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        normed = x32 * torch.rsqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return normed.type_as(x) * self.weight


class LayerNorm(nn.LayerNorm):
    """LayerNorm computed in fp32, returned in the input dtype."""

    def __init__(self, dim: int, eps: float, elementwise_affine: bool = False) -> None:
        super().__init__(dim, eps=eps, elementwise_affine=elementwise_affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = None if self.weight is None else self.weight.float()
        bias = None if self.bias is None else self.bias.float()
        with _no_autocast(x):
            out = F.layer_norm(x.float(), self.normalized_shape, weight, bias, self.eps)
        return out.type_as(x)


class SelfAttention(nn.Module):
    """Multi-head attention with q/k RMSNorm over the full width and 3D RoPE on q, k."""

    def __init__(self, dim: int, num_heads: int, qk_norm: bool, eps: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)
        self.norm_q: nn.Module = RMSNorm(dim, eps) if qk_norm else nn.Identity()
        self.norm_k: nn.Module = RMSNorm(dim, eps) if qk_norm else nn.Identity()

    def forward(
        self,
        x: torch.Tensor,
        k_lens: torch.Tensor | None,
        freqs: Sequence[torch.Tensor],
        attn: AttentionFn = attention,
    ) -> torch.Tensor:
        b, s = x.shape[:2]
        shape = (b, s, self.num_heads, self.head_dim)
        q = self.norm_q(self.q(x)).view(shape)
        k = self.norm_k(self.k(x)).view(shape)
        v = self.v(x).view(shape)
        out = attn(apply_rope(q, freqs), apply_rope(k, freqs), v, k_lens)
        return self.o(out.flatten(2))


class CrossAttention(SelfAttention):
    """Image tokens attend to all text slots, zero-padded ones included (upstream passes no mask)."""

    def forward(  # type: ignore[override]
        self, x: torch.Tensor, context: torch.Tensor, attn: AttentionFn = attention
    ) -> torch.Tensor:
        b = x.shape[0]
        q = self.norm_q(self.q(x)).view(b, -1, self.num_heads, self.head_dim)
        k = self.norm_k(self.k(context)).view(b, -1, self.num_heads, self.head_dim)
        v = self.v(context).view(b, -1, self.num_heads, self.head_dim)
        return self.o(attn(q, k, v, None).flatten(2))


class DiTBlock(nn.Module):
    """Modulated self-attention, cross-attention, modulated FFN (official ``WanAttentionBlock``).

    Note the official module order norm1 → self_attn, norm3 → cross_attn, norm2 → ffn."""

    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        dim = cfg.dim
        self.norm1 = LayerNorm(dim, cfg.eps)
        self.self_attn = SelfAttention(dim, cfg.num_heads, cfg.qk_norm, cfg.eps)
        self.norm3: nn.Module = (
            LayerNorm(dim, cfg.eps, elementwise_affine=True)
            if cfg.cross_attn_norm
            else nn.Identity()
        )
        self.cross_attn = CrossAttention(dim, cfg.num_heads, cfg.qk_norm, cfg.eps)
        self.norm2 = LayerNorm(dim, cfg.eps)
        self.ffn = nn.Sequential(
            nn.Linear(dim, cfg.ffn_dim), nn.GELU(approximate="tanh"), nn.Linear(cfg.ffn_dim, dim)
        )
        self.modulation = nn.Parameter(torch.randn(1, 6, dim) / dim**0.5)

    def forward(
        self,
        x: torch.Tensor,
        e0: torch.Tensor,
        k_lens: torch.Tensor | None,
        freqs: Sequence[torch.Tensor],
        context: torch.Tensor,
        attn: AttentionFn = attention,
        cross_core: AttentionFn = attention,
    ) -> torch.Tensor:
        """x [B, S, C]; e0 [B, S or 1, 6, C] fp32; context [B, text_len, C]; ``attn`` runs the
        self-attention core (swapped for the Ulysses one under sequence parallelism),
        ``cross_core`` the cross-attention core (``WanDiT.forward`` passes both with the backend
        already chosen, so a compiled block reads no context variable)."""
        # Element-wise fp32 arithmetic (promotion keeps it fp32; autocast does not touch it).
        mod = (self.modulation.unsqueeze(0) + e0).chunk(6, dim=2)
        shift, scale, gate, c_shift, c_scale, c_gate = (m.squeeze(2) for m in mod)

        y = self.self_attn(self.norm1(x).float() * (1 + scale) + shift, k_lens, freqs, attn)
        x = x + y * gate
        x = x + self.cross_attn(self.norm3(x), context, cross_core)
        y = self.ffn(self.norm2(x).float() * (1 + c_scale) + c_shift)
        return x + y * c_gate


class Head(nn.Module):
    """Modulated final LayerNorm and projection to patch pixels, entirely in fp32."""

    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        self.norm = LayerNorm(cfg.dim, cfg.eps)
        self.head = nn.Linear(cfg.dim, cfg.patch_volume * cfg.out_dim)
        self.modulation = nn.Parameter(torch.randn(1, 2, cfg.dim) / cfg.dim**0.5)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """x [B, S, C]; e [B, S or 1, C] (time embedding, not the projection) → [B, S, p·out]."""
        with _no_autocast(x):
            shift, scale = (self.modulation.float().unsqueeze(0) + e.unsqueeze(2)).chunk(2, dim=2)
            return _linear32(self.head, self.norm(x) * (1 + scale.squeeze(2)) + shift.squeeze(2))


class WanDiT(nn.Module):
    """The Wan2.2 DiT; ``forward`` mirrors the official ``WanModel.forward``."""

    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        self.config = cfg
        dim = cfg.dim
        self.patch_embedding = nn.Conv3d(
            cfg.in_dim, dim, kernel_size=cfg.patch_size, stride=cfg.patch_size
        )
        self.text_embedding = nn.Sequential(
            nn.Linear(cfg.text_dim, dim), nn.GELU(approximate="tanh"), nn.Linear(dim, dim)
        )
        self.time_embedding = nn.Sequential(
            nn.Linear(cfg.freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim)
        )
        self.time_projection = nn.Sequential(nn.SiLU(), nn.Linear(dim, dim * 6))
        self.blocks = nn.ModuleList([DiTBlock(cfg) for _ in range(cfg.num_layers)])
        self.head = Head(cfg)
        # RoPE tables are plain attributes, not buffers, so `.to(bf16)` never casts them and
        # they never enter the state dict. Built lazily per device (also works from `meta`).
        self._rope_tables: dict[torch.device, torch.Tensor] = {}
        # True: run the time MLP on every token's t like upstream (B·seq_len rows; for A14B at
        # 720p that is a 9.3 GB e0 plus a same-size temporary per block). The default embeds
        # each distinct t once: the same math, but BLAS takes other kernels for 1 row than for
        # 75,600, so rows differ at ~1e-7, which bf16 rounding can magnify. Set True only to
        # reproduce upstream bit for bit (measured: identical in CPU-emulated bf16 mode).
        self.per_token_time_mlp = False
        # Set by ``parallel.apply_sequence_parallel``: this rank then runs its slice of the tokens.
        self.sequence_parallel: SequenceParallel | None = None

    def rope_table(self, device: torch.device) -> torch.Tensor:
        """complex128 [1024, head_dim/2] on ``device``, cached."""
        table = self._rope_tables.get(device)
        if table is None:
            table = rope_table(self.config.head_dim, device=device)
            self._rope_tables[device] = table
        return table

    def forward(
        self,
        x: list[torch.Tensor],
        t: torch.Tensor,
        context: list[torch.Tensor],
        seq_len: int,
        y: list[torch.Tensor] | None = None,
        clean_tokens: int = 0,
    ) -> list[torch.Tensor]:
        """x: latents [C_in, F, H, W]; t: [B] or per-token [B, seq_len]; context: [L_i, text_dim]
        text embeddings (L_i ≤ text_len); y: i2v conditioning concatenated to x on channels;
        clean_tokens (t [B] only): the first tokens of every sample have t = 0 (TI2V's clean
        image frame), the official per-token t without a per-token tensor.
        Returns fp32 [out_dim, F, H, W] per sample. (Upstream only accepts a [B] t for B = 1;
        here any B works, each sample with its own t.)

        With t [B] the forward makes no host synchronisation, so it can be compiled whole or
        captured; a per-token t [B, seq_len] costs one (its distinct values are looked up)."""
        cfg = self.config
        if y is not None:
            x = [torch.cat([u, v], dim=0) for u, v in zip(x, y)]
        if any(u.shape[0] != cfg.in_dim for u in x):
            need = "latent + y channels" if y is not None or cfg.model_type != "i2v" else "y (i2v)"
            raise ValueError(
                f"the DiT takes {cfg.in_dim} input channels, got "
                f"{[u.shape[0] for u in x]}; check the {need}"
            )
        if len(x) != len(context) or len(x) != t.shape[0]:
            raise ValueError(
                f"batch mismatch: {len(x)} latents, {t.shape[0]} timesteps, {len(context)} contexts"
            )
        device = self.patch_embedding.weight.device
        sp = self.sequence_parallel
        if sp is not None:
            seq_len, t = sp.pad(seq_len, t)
        h, grids, seq_lens = self.patchify(x, seq_len)
        e, e0 = self.embed_time(t.to(device), seq_len, clean_tokens)
        ctx = self.embed_text(context)
        freqs = self.rope_freqs(grids, device)
        k_lens = None  # no mask at all when nothing is padded (lets SDPA take its fastest kernel)
        if min(seq_lens) < seq_len:
            k_lens = torch.tensor(seq_lens, dtype=torch.int32, device=device)

        # The plan's backend, fixed for this forward (the blocks then read no context variable).
        core: AttentionFn = functools.partial(
            attention, backend=_backend_now(device, self.config.head_dim)
        )
        attn = core
        if sp is not None:
            h, e, e0, freqs = sp.shard(h, e, e0, freqs)
            attn = sp.attention
        for block in self.blocks:
            h = block(h, e0, k_lens, freqs, ctx, attn, core)
        out = self.head(h, e)
        if sp is not None:
            out = sp.gather(out)
        return [u.float() for u in self.unpatchify(out, grids)]

    def patchify(
        self, x: list[torch.Tensor], seq_len: int
    ) -> tuple[torch.Tensor, list[Grid], list[int]]:
        """Latents [C_in, F, H, W] -> zero-padded tokens [B, seq_len, C] in (f, h, w) row-major
        order, the token grids and the real token counts."""
        weight = self.patch_embedding.weight
        tokens, grids = [], []
        for u in x:
            p = self.patch_embedding(u.unsqueeze(0).to(device=weight.device, dtype=weight.dtype))
            grids.append((p.shape[2], p.shape[3], p.shape[4]))
            tokens.append(p.flatten(2).transpose(1, 2))  # [1, L_i, C]
        seq_lens = [u.shape[1] for u in tokens]
        if max(seq_lens) > seq_len:
            raise ValueError(f"seq_len {seq_len} is shorter than the {max(seq_lens)} latent tokens")
        h = torch.cat([F.pad(u, (0, 0, 0, seq_len - u.shape[1])) for u in tokens])
        return h, grids, seq_lens

    def embed_time(
        self, t: torch.Tensor, seq_len: int, clean_tokens: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Time embedding e [B, S', C] and its projection e0 [B, S', 6, C], both fp32.

        Upstream embeds every token's t (S' = seq_len). The MLP is row-wise, so by default we
        embed each distinct t once and gather; S' = 1 (broadcast) when t is constant per sample.
        With t [B] the distinct values are known from the shapes (t itself, plus 0 for the
        ``clean_tokens`` prefix), so nothing waits for the device. See ``per_token_time_mlp``."""
        if t.dim() == 2:
            if t.shape[1] != seq_len:
                raise ValueError(f"t must be [B] or [B, seq_len={seq_len}], got {tuple(t.shape)}")
            if clean_tokens:
                raise ValueError("clean_tokens needs a t of shape [B], not per-token")
            return self._embed_per_token_t(t, seq_len)
        if t.dim() != 1:
            raise ValueError(f"t must be [B] or [B, seq_len={seq_len}], got {tuple(t.shape)}")
        if not 0 <= clean_tokens <= seq_len:
            raise ValueError(f"clean_tokens must be in 0..seq_len={seq_len}, got {clean_tokens}")
        b = t.shape[0]
        if self.per_token_time_mlp:
            full = t[:, None].expand(b, seq_len)
            if clean_tokens:
                clean = torch.arange(seq_len, device=t.device) < clean_tokens
                full = torch.where(clean, torch.zeros_like(full), full)
            values = full.flatten()
            index = torch.arange(values.numel(), device=t.device).view(b, seq_len)
        elif clean_tokens:
            # Rows: [0, t_0, …, t_{B-1}] (ascending for B = 1, as torch.unique gave them).
            values = torch.cat([t.new_zeros(1), t])
            clean = torch.arange(seq_len, device=t.device)[None, :] < clean_tokens
            index = torch.where(clean, 0, torch.arange(1, b + 1, device=t.device)[:, None])
        else:
            values, index = t, torch.arange(b, device=t.device)[:, None]
        return self._time_mlp(values, index)

    def _embed_per_token_t(
        self, t: torch.Tensor, seq_len: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A per-token t [B, seq_len] of unknown values: their distinct values are looked up on
        the host (one synchronisation per forward; the loop passes t [B] + clean_tokens)."""
        if self.per_token_time_mlp:
            values = t.flatten()
            index = torch.arange(t.numel(), device=t.device).view(t.shape)
        else:
            if bool((t == t[:, :1]).all()):
                t = t[:, :1]  # constant per sample (A14B, TI2V t2v mode): broadcast
            values, index = torch.unique(t, return_inverse=True)
        return self._time_mlp(values, index)

    def _time_mlp(
        self, values: torch.Tensor, index: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The time MLP on the distinct ``values`` [U], gathered by ``index`` [B, S'] of rows."""
        with _no_autocast(values):
            s = sinusoid(self.config.freq_dim, values).float()
            emb, proj = self.time_embedding, self.time_projection
            e_u = _linear32(cast(nn.Linear, emb[2]), F.silu(_linear32(cast(nn.Linear, emb[0]), s)))
            e0_u = _linear32(cast(nn.Linear, proj[1]), F.silu(e_u))
        e = e_u[index]  # [B, S', C]
        e0 = e0_u[index].unflatten(2, (6, self.config.dim))  # [B, S', 6, C]
        return e, e0

    def embed_text(self, context: list[torch.Tensor]) -> torch.Tensor:
        """Zero-pad each [L_i, text_dim] to text_len rows (zeros, not T5 pad outputs), embed."""
        text_len = self.config.text_len
        weight = cast(nn.Linear, self.text_embedding[0]).weight
        rows = []
        for u in context:
            if u.shape[0] > text_len:
                raise ValueError(f"context has {u.shape[0]} tokens, more than text_len {text_len}")
            u = u.to(device=weight.device, dtype=weight.dtype)
            rows.append(F.pad(u, (0, 0, 0, text_len - u.shape[0])))
        return self.text_embedding(torch.stack(rows))

    def rope_freqs(self, grids: list[Grid], device: torch.device) -> list[torch.Tensor]:
        """Per-sample RoPE rotations [L_i, D/2]; equal grids share one tensor (fast path)."""
        table = self.rope_table(device)
        cache: dict[Grid, torch.Tensor] = {}
        for g in grids:
            if g not in cache:
                cache[g] = grid_freqs(table, g)
        return [cache[g] for g in grids]

    def unpatchify(self, x: torch.Tensor, grids: list[Grid]) -> list[torch.Tensor]:
        """[B, S, p_t·p_h·p_w·c] -> per sample [c, f·p_t, h·p_h, w·p_w] (c fastest in a patch)."""
        c = self.config.out_dim
        pt, ph, pw = self.config.patch_size
        out = []
        for u, (f, h, w) in zip(x, grids):
            u = u[: math.prod((f, h, w))].view(f, h, w, pt, ph, pw, c)
            out.append(u.permute(6, 0, 3, 1, 4, 2, 5).reshape(c, f * pt, h * ph, w * pw))
        return out


@torch.compiler.assume_constant_result
def _backend_now(device: torch.device, head_dim: int) -> str:
    """The attention backend of this forward (the plan's, set by ``use_backend``). Read in
    Python even while dynamo traces a whole forward: the choice is a constant of the job."""
    return chosen_backend(device, head_dim)
