"""Tiny random-weight TAEHV files in the published key layout (madebyollin/taehv ``taew2_*``):
the full model's ``encoder.*`` and ``decoder.*`` keys, the first TGrow stored with stride 2 as
the published files do. Widths are tiny; channel count and patch size pick the variant."""

from __future__ import annotations

from pathlib import Path

import torch

WIDTHS = (8, 6, 4, 4)


def taehv_state(
    latent_channels: int = 16, patch_size: int = 1, widths=WIDTHS, seed: int = 0
) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape: int) -> torch.Tensor:
        fan_in = shape[1] * shape[2] * shape[3] if len(shape) == 4 else 1
        return torch.randn(*shape, generator=g) * 0.7 / fan_in**0.5  # activations stay O(1)

    sd: dict[str, torch.Tensor] = {}

    def conv(key: str, n_in: int, n_out: int, k: int = 3, bias: bool = True) -> None:
        sd[f"{key}.weight"] = rnd(n_out, n_in, k, k)
        if bias:
            sd[f"{key}.bias"] = rnd(n_out)

    def memblock(key: str, c: int) -> None:
        conv(f"{key}.conv.0", 2 * c, c)
        conv(f"{key}.conv.2", c, c)
        conv(f"{key}.conv.4", c, c)

    out = 3 * patch_size**2
    # encoder (ignored by our decoder, present in the published files)
    conv("encoder.0", out, 64 // 8)
    conv("encoder.23", 64 // 8, latent_channels)
    # decoder
    n = widths
    conv("decoder.1", latent_channels, n[0])
    for stage, (blocks, tgrow, proj) in enumerate(
        (((3, 4, 5), 7, 8), ((9, 10, 11), 13, 14), ((15, 16, 17), 19, 20))
    ):
        c = n[stage]
        for b in blocks:
            memblock(f"decoder.{b}", c)
        sd[f"decoder.{tgrow}.conv.weight"] = rnd(2 * c, c, 1, 1)  # stride 2, also at stage 0
        conv(f"decoder.{proj}", c, n[stage + 1], bias=False)
    conv("decoder.22", n[3], out)
    return sd


def write_taehv(
    path: Path, latent_channels: int = 16, patch_size: int = 1, widths=WIDTHS, seed: int = 0
) -> Path:
    """Write a tiny TAEHV file (``.safetensors`` or ``.pth`` by the suffix)."""
    sd = taehv_state(latent_channels, patch_size, widths, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.half().contiguous() for k, v in sd.items()}, str(path))
    else:
        torch.save(sd, path)
    return path
