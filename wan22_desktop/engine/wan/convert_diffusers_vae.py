"""Pure key mapping between the official Wan VAE state dict and diffusers' ``AutoencoderKLWan``.

Used to check our VAEs against diffusers (an independent implementation) and to read
diffusers-format VAE files. No torch or diffusers import: keys in, keys out.

Where diffusers 0.42 (``models/autoencoders/autoencoder_kl_wan.py``) deviates from the official
``wan/modules/vae2_1.py`` / ``vae2_2.py`` (all checked; none changes fp32 results on loaded weights):

1. Names and grouping: ``conv1``/``conv2`` -> ``quant_conv``/``post_quant_conv``; ``head.0``/``head.2``
   -> ``norm_out``/``conv_out``; ``middle.{0,1,2}`` -> ``mid_block.{resnets.0, attentions.0,
   resnets.1}``; residual ``residual.{0,2,3,6}``/``shortcut`` -> ``norm1/conv1/norm2/conv2``/
   ``conv_shortcut``; Wan2.1 flat decoder list -> ``up_blocks.N.{resnets.i, upsamplers.0}``; Wan2.2
   nested levels -> ``down_blocks.N.{resnets.i, downsampler}`` / ``up_blocks.N.{resnets.i, upsampler}``.
2. Latent normalisation is not in the model: the pipelines apply ``(z - mean) * (1/std)`` and
   ``z / (1/std) + mean`` with ``latents_mean``/``latents_std`` from the config. Official does it in
   ``WanVAE_.encode/decode`` with the constants hard-coded in ``Wan2_x_VAE``.
3. ``decode`` clamps to [-1, 1] inside the model; official ``WanVAE_.decode`` does not (its
   ``Wan2_x_VAE.decode`` wrapper does).
4. ``encode`` returns a ``DiagonalGaussianDistribution`` (``.mode()`` is mu; its log-variance is
   clamped to [-30, 20], irrelevant for mu); official ``encode`` returns mu only.
5. ``WanRMS_norm`` upcasts fp16/bf16/fp8 inputs to fp32 for ``F.normalize``; official does not
   (identical in fp32).
6. The attention ``proj`` weight is not zero-initialised (official zeroes it; loaded weights win).
7. diffusers adds spatial tiling for encode/decode (off by default) and caches conv counts.
8. Wan2.1 decoder: the input width of level i>0 is halved (``i > 0``); official writes
   ``i in (1, 2, 3)``: the same for the 4-level configs both support.
9. Wan2.2: patchify/unpatchify are view/permute (official einops), same channel order (c, w, h);
   ``DupUp3D`` uses ``factor_s=2`` unconditionally (official ``2 if up_flag``, only built with
   up_flag); the last encoder level's temporal flag is ``False`` by rule, official reads past the
   list end as ``False``.
10. diffusers' own convert script (``scripts/convert_wan_to_diffusers.py``) hard-codes
    ``num_res_blocks=2`` for the Wan2.1 decoder; the mapping here derives it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from .vae_config import VAEConfig, vae_config_from_state_dict

T = TypeVar("T")

_RES_TO_DIFF = (
    ("residual.0.", "norm1."),
    ("residual.2.", "conv1."),
    ("residual.3.", "norm2."),
    ("residual.6.", "conv2."),
    ("shortcut.", "conv_shortcut."),
)
_MIDDLE_TO_DIFF = {
    "0": "mid_block.resnets.0.",
    "1": "mid_block.attentions.0.",
    "2": "mid_block.resnets.1.",
}
_MIDDLE_TO_OFF = {v: k for k, v in _MIDDLE_TO_DIFF.items()}


def _swap_prefix(rest: str, pairs: tuple[tuple[str, str], ...], reverse: bool = False) -> str:
    for a, b in pairs:
        src, dst = (b, a) if reverse else (a, b)
        if rest.startswith(src):
            return dst + rest[len(src) :]
    return rest


# What may follow a layer index inside a level: a residual block's or a resample's own parameters.
_LAYER_TAIL = re.compile(r"(residual\.[0236]|shortcut|resample\.1|time_conv)\.(weight|bias|gamma)")


def _check_version(version: str) -> None:
    if version not in ("2.1", "2.2"):
        raise ValueError(f"version must be '2.1' or '2.2', got {version!r}")


def official_key_to_diffusers(key: str, version: str, num_res_blocks: int) -> str:
    """One official VAE key -> its ``AutoencoderKLWan`` name. ValueError on a key of neither layout."""
    _check_version(version)
    r = num_res_blocks
    if key.startswith("conv1."):
        return "quant_conv." + key[len("conv1.") :]
    if key.startswith("conv2."):
        return "post_quant_conv." + key[len("conv2.") :]
    side, _, rest = key.partition(".")
    if side not in ("encoder", "decoder"):
        raise ValueError(f"not a Wan VAE key: {key!r}")
    if rest.startswith("conv1."):
        return f"{side}.conv_in.{rest[len('conv1.') :]}"
    if rest.startswith("head.0."):
        return f"{side}.norm_out.{rest[len('head.0.') :]}"
    if rest.startswith("head.2."):
        return f"{side}.conv_out.{rest[len('head.2.') :]}"
    if m := re.fullmatch(r"middle\.([012])\.(.+)", rest):
        tail = m.group(2) if m.group(1) == "1" else _swap_prefix(m.group(2), _RES_TO_DIFF)
        return f"{side}.{_MIDDLE_TO_DIFF[m.group(1)]}{tail}"
    if version == "2.1":
        if side == "encoder" and (m := re.fullmatch(r"downsamples\.(\d+)\.(.+)", rest)):
            if not _LAYER_TAIL.fullmatch(m.group(2)):
                raise ValueError(f"not a Wan{version} VAE key: {key!r}")
            return f"encoder.down_blocks.{m.group(1)}.{_swap_prefix(m.group(2), _RES_TO_DIFF)}"
        if side == "decoder" and (m := re.fullmatch(r"upsamples\.(\d+)\.(.+)", rest)):
            if not _LAYER_TAIL.fullmatch(m.group(2)):
                raise ValueError(f"not a Wan{version} VAE key: {key!r}")
            blk, pos = divmod(int(m.group(1)), r + 2)
            if pos <= r:
                return f"decoder.up_blocks.{blk}.resnets.{pos}.{_swap_prefix(m.group(2), _RES_TO_DIFF)}"
            return f"decoder.up_blocks.{blk}.upsamplers.0.{m.group(2)}"
    else:
        if side == "encoder" and (
            m := re.fullmatch(r"downsamples\.(\d+)\.downsamples\.(\d+)\.(.+)", rest)
        ):
            lvl, j, tail = m.group(1), int(m.group(2)), m.group(3)
            if j < r:
                return f"encoder.down_blocks.{lvl}.resnets.{j}.{_swap_prefix(tail, _RES_TO_DIFF)}"
            return f"encoder.down_blocks.{lvl}.downsampler.{tail}"
        if side == "decoder" and (
            m := re.fullmatch(r"upsamples\.(\d+)\.upsamples\.(\d+)\.(.+)", rest)
        ):
            lvl, j, tail = m.group(1), int(m.group(2)), m.group(3)
            if j <= r:
                return f"decoder.up_blocks.{lvl}.resnets.{j}.{_swap_prefix(tail, _RES_TO_DIFF)}"
            return f"decoder.up_blocks.{lvl}.upsampler.{tail}"
    raise ValueError(f"not a Wan{version} VAE key: {key!r}")


def diffusers_key_to_official(key: str, version: str, num_res_blocks: int) -> str:
    """Inverse of ``official_key_to_diffusers``."""
    _check_version(version)
    r = num_res_blocks
    if key.startswith("quant_conv."):
        return "conv1." + key[len("quant_conv.") :]
    if key.startswith("post_quant_conv."):
        return "conv2." + key[len("post_quant_conv.") :]
    side, _, rest = key.partition(".")
    if side not in ("encoder", "decoder"):
        raise ValueError(f"not an AutoencoderKLWan key: {key!r}")
    for diff, off in (("conv_in.", "conv1."), ("norm_out.", "head.0."), ("conv_out.", "head.2.")):
        if rest.startswith(diff):
            return f"{side}.{off}{rest[len(diff) :]}"
    for diff, idx in _MIDDLE_TO_OFF.items():
        if rest.startswith(diff):
            tail = rest[len(diff) :]
            tail = tail if idx == "1" else _swap_prefix(tail, _RES_TO_DIFF, reverse=True)
            return f"{side}.middle.{idx}.{tail}"
    if version == "2.1":
        if side == "encoder" and (m := re.fullmatch(r"down_blocks\.(\d+)\.(.+)", rest)):
            return f"encoder.downsamples.{m.group(1)}.{_swap_prefix(m.group(2), _RES_TO_DIFF, reverse=True)}"
        if side == "decoder" and (
            m := re.fullmatch(r"up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)", rest)
        ):
            k = int(m.group(1)) * (r + 2) + int(m.group(2))
            return f"decoder.upsamples.{k}.{_swap_prefix(m.group(3), _RES_TO_DIFF, reverse=True)}"
        if side == "decoder" and (
            m := re.fullmatch(r"up_blocks\.(\d+)\.upsamplers\.0\.(.+)", rest)
        ):
            return f"decoder.upsamples.{int(m.group(1)) * (r + 2) + r + 1}.{m.group(2)}"
    else:
        blocks = "down_blocks" if side == "encoder" else "up_blocks"
        layers = "downsamples" if side == "encoder" else "upsamples"
        if m := re.fullmatch(rf"{blocks}\.(\d+)\.resnets\.(\d+)\.(.+)", rest):
            tail = _swap_prefix(m.group(3), _RES_TO_DIFF, reverse=True)
            return f"{side}.{layers}.{m.group(1)}.{layers}.{m.group(2)}.{tail}"
        sampler = "downsampler" if side == "encoder" else "upsampler"
        if m := re.fullmatch(rf"{blocks}\.(\d+)\.{sampler}\.(.+)", rest):
            j = r if side == "encoder" else r + 1
            return f"{side}.{layers}.{m.group(1)}.{layers}.{j}.{m.group(2)}"
    raise ValueError(f"not a Wan{version} AutoencoderKLWan key: {key!r}")


def _diffusers_num_res_blocks(keys: Any) -> int:
    found = {
        int(m.group(1))
        for k in keys
        if (m := re.match(r"decoder\.up_blocks\.0\.resnets\.(\d+)\.", k))
    }
    if not found:
        raise ValueError(
            "no decoder.up_blocks.0.resnets.* keys: not an AutoencoderKLWan state dict"
        )
    return max(found)  # the decoder has num_res_blocks + 1 per level


def official_to_diffusers_vae(
    sd: Mapping[str, T], version: str, num_res_blocks: int | None = None
) -> dict[str, T]:
    """Rename a whole official VAE state dict for ``AutoencoderKLWan.load_state_dict(strict=True)``."""
    r = (
        vae_config_from_state_dict(sd, version).num_res_blocks
        if num_res_blocks is None
        else num_res_blocks
    )
    return {official_key_to_diffusers(k, version, r): v for k, v in sd.items()}


def diffusers_to_official_vae(
    sd: Mapping[str, T], version: str, num_res_blocks: int | None = None
) -> dict[str, T]:
    """Rename an ``AutoencoderKLWan`` state dict to the official layout."""
    r = _diffusers_num_res_blocks(sd) if num_res_blocks is None else num_res_blocks
    return {diffusers_key_to_official(k, version, r): v for k, v in sd.items()}


def diffusers_vae_kwargs(cfg: VAEConfig) -> dict[str, Any]:
    """``AutoencoderKLWan(**kwargs)`` arguments that build the same network as ``cfg``."""
    kwargs: dict[str, Any] = {
        "base_dim": cfg.dim,
        "decoder_base_dim": cfg.dec_dim,
        "z_dim": cfg.z_dim,
        "dim_mult": list(cfg.dim_mult),
        "num_res_blocks": cfg.num_res_blocks,
        "attn_scales": [],
        "temperal_downsample": list(cfg.temperal_downsample),
        "dropout": 0.0,
        "latents_mean": list(cfg.latents_mean),
        "latents_std": list(cfg.latents_std),
        "is_residual": cfg.version == "2.2",
        "in_channels": cfg.io_channels,
        "out_channels": cfg.io_channels,
        "scale_factor_temporal": cfg.stride[0],
        "scale_factor_spatial": cfg.stride[1],
    }
    if cfg.version == "2.2":
        kwargs["patch_size"] = cfg.patch_size
    return kwargs
