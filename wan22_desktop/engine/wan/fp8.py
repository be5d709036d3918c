"""FP8 (e4m3) weight storage for the DiT's Linear layers: modules and math only.

``FP8Linear`` holds the weight as float8 e4m3 bits with one fp32 scale per output channel
(``w ≈ w8 · scale[o]``, ``scale = max|w[o, :]| / 448``): half the bytes of bf16. Its tensors are
plain buffers (``weight`` uint8, the e4m3 bits, so a ``.to(dtype)`` can never re-cast them;
``weight_scale`` fp32; ``bias`` as loaded), so streaming or ``.to(device)`` copies them like any
other module's.

Compute: on CUDA GPUs of compute capability 8.9+ (Ada, Hopper) ``torch._scaled_mm`` multiplies
fp8 by fp8 with row-wise scales (the activations are quantised per token on the fly). Elsewhere
(the CPU, older GPUs, shapes not multiples of 16, fp32 runs) the e4m3 weight, exact in bf16 and
fp32, is multiplied in the compute dtype and the scale applied to the output in fp32, which is
the same dequantisation without a full-precision weight copy in memory.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)

FP8 = torch.float8_e4m3fn
FP8_MAX = float(torch.finfo(FP8).max)  # 448
SCALED_MM_CAPABILITY = (8, 9)


def quantize_weight(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[O, I] float -> (e4m3 [O, I], fp32 scale [O]) with per-output-channel absmax scaling."""
    w = weight.detach().float()
    amax = w.abs().amax(dim=1)
    scale = torch.where(amax > 0, amax / FP8_MAX, torch.ones_like(amax))
    q = (w / scale[:, None]).clamp_(-FP8_MAX, FP8_MAX).to(FP8)
    return q, scale


def dequantize_weight(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """(e4m3 [O, I], scale [O]) -> fp32 [O, I]."""
    return q.float() * scale.float()[:, None]


class FP8Linear(nn.Module):
    """A Linear whose weight is stored in e4m3 with per-output-channel scales (see the module doc)."""

    weight: torch.Tensor
    weight_scale: torch.Tensor

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        device: torch.device | str | None = None,
        bias_dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.register_buffer(
            "weight", torch.empty(out_features, in_features, dtype=torch.uint8, device=device)
        )
        self.register_buffer(
            "weight_scale", torch.ones(out_features, dtype=torch.float32, device=device)
        )
        self.bias: torch.Tensor | None
        if bias:
            self.register_buffer("bias", torch.zeros(out_features, dtype=bias_dtype, device=device))
        else:
            self.bias = None
        self.use_scaled_mm = True  # False after a failed _scaled_mm: the fallback from then on

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> FP8Linear:
        """Quantise ``linear`` (its device; a meta Linear gives an empty FP8Linear on meta)."""
        w = linear.weight
        out = cls(
            linear.in_features,
            linear.out_features,
            linear.bias is not None,
            device=w.device,
            bias_dtype=w.dtype,
        )
        if w.is_meta:
            return out
        q, scale = quantize_weight(w)
        out.weight = q.view(torch.uint8)
        out.weight_scale = scale
        if linear.bias is not None:
            out.bias = linear.bias.detach().clone()
        return out

    @property
    def weight_fp8(self) -> torch.Tensor:
        return self.weight.view(FP8)

    def dequantized(self) -> torch.Tensor:
        """The fp32 weight this layer stands for (tests, reports)."""
        return dequantize_weight(self.weight_fp8, self.weight_scale)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, weight=e4m3 per-channel"
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = _compute_dtype(x)
        if self.use_scaled_mm and scaled_mm_ok(x, self, dtype):
            try:
                return self._scaled(x)
            except RuntimeError as exc:  # a driver/library without row-wise fp8: fall back
                log.warning("fp8 scaled matmul unavailable (%s); dequantising instead", exc)
                self.use_scaled_mm = False
        y = F.linear(x.to(dtype), self.weight_fp8.to(dtype)).float() * self.weight_scale
        if self.bias is not None:
            y = y + self.bias.float()
        return y.to(dtype)

    def _scaled(self, x: torch.Tensor) -> torch.Tensor:
        """fp8 x fp8 on the tensor cores: x quantised per token, the weight per channel."""
        shape = x.shape
        x2 = x.reshape(-1, shape[-1])
        xq, x_scale = quantize_activation(x2)
        y = torch._scaled_mm(
            xq,
            self.weight_fp8.t(),  # [I, O] column-major, as _scaled_mm wants its second operand
            scale_a=x_scale,  # [M, 1]
            scale_b=self.weight_scale[None, :],  # [1, O]
            out_dtype=torch.bfloat16,
        )
        if self.bias is not None:
            y = y + self.bias.to(y.dtype)
        return y.reshape(*shape[:-1], self.out_features)


def quantize_activation(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[M, K] -> (e4m3 [M, K] row-major, fp32 [M, 1]) with one absmax scale per row (token)."""
    amax = x.detach().abs().amax(dim=1, keepdim=True).float()
    scale = torch.where(amax > 0, amax / FP8_MAX, torch.ones_like(amax))
    return (x.float() / scale).clamp_(-FP8_MAX, FP8_MAX).to(FP8), scale


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    """What an nn.Linear would compute in here: autocast's dtype when it is on, else x's."""
    kind = x.device.type
    if torch.is_autocast_enabled(kind):
        return torch.get_autocast_dtype(kind)
    return x.dtype


def scaled_mm_ok(x: torch.Tensor, layer: FP8Linear, dtype: torch.dtype) -> bool:
    """Whether ``torch._scaled_mm`` (row-wise scales) can run this layer: CUDA 8.9+, bf16
    compute, both weight dims multiples of 16 (cuBLASLt's fp8 rule)."""
    if x.device.type != "cuda" or dtype != torch.bfloat16:
        return False
    if layer.in_features % 16 or layer.out_features % 16:
        return False
    return cuda_supports_fp8(x.device)


def cuda_supports_fp8(device: torch.device) -> bool:
    try:
        return torch.cuda.get_device_capability(device) >= SCALED_MM_CAPABILITY
    except (RuntimeError, AssertionError, ValueError):
        return False


def quantizable_linears(dit: nn.Module) -> list[str]:
    """Names of the Linears ``quantize_dit`` converts: every one inside the transformer blocks
    (attention q/k/v/o, cross-attention, FFN: >95 % of the weights). The embeddings, time MLPs
    and head stay as they are: small, and the time/head ones run as fp32 islands."""
    return [
        name
        for name, m in dit.named_modules()
        if name.startswith("blocks.") and isinstance(m, nn.Linear)
    ]


def quantize_dit(dit: nn.Module) -> nn.Module:
    """Replace the blocks' Linears by ``FP8Linear`` in place and return ``dit``.

    The loader calls this last, after anything that changes weights (LoRA merging), so what is
    quantised is the final weight. On a meta model it only swaps the modules (the cache loader
    then assigns the stored fp8 tensors)."""
    for name in quantizable_linears(dit):
        parent_name, _, child = name.rpartition(".")
        parent = dit.get_submodule(parent_name)
        linear = getattr(parent, child)
        setattr(parent, child, FP8Linear.from_linear(linear))
        del linear  # the full-precision tensor goes with the last reference (mmap pages too)
    return dit


def is_quantized(dit: nn.Module) -> bool:
    return any(isinstance(m, FP8Linear) for m in dit.modules())
