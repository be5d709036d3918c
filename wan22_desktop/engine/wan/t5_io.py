"""Reading and writing umT5 encoder files in the official format, plus tiny stand-ins for tests.

The official `models_t5_umt5-xxl-enc-bf16.pth` is a plain `torch.save`d state dict of 242 bf16
tensors (11.4 GB). We build the encoder on the meta device and assign the mmapped tensors, so
loading never holds two copies and is bounded by disk speed.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch

from wan22_desktop.errors import UserInputError

from .t5 import T5Encoder
from .t5_config import T5Config, t5_config_from_state_dict

T5_CHECKPOINT_NAME = "models_t5_umt5-xxl-enc-bf16.pth"
T5_TOKENIZER_SUBDIR = "google/umt5-xxl"

_REDOWNLOAD_HINT = (
    f"Delete the file and download {T5_CHECKPOINT_NAME} again (11,361,920,418 bytes)."
)
_FOREIGN_HINT = f"Point to {T5_CHECKPOINT_NAME} from a Wan2.2 model folder; this looks like another model's file."


def _describe(keys: list[str], limit: int = 3) -> str:
    shown = ", ".join(keys[:limit])
    return f"{len(keys)} ({shown}{', ...' if len(keys) > limit else ''})"


def read_t5_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """torch.load with weights_only and mmap; every failure becomes a UserInputError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(
            f"T5 checkpoint not found: {path}",
            hint=f"Download {T5_CHECKPOINT_NAME} into the model folder.",
        )
    try:
        try:
            sd = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
        except RuntimeError as exc:
            # Files written by the legacy (pre-zip) serializer cannot be mmapped; read them into memory.
            if "mmap" not in str(exc):
                raise
            sd = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UserInputError(
            f"T5 checkpoint {path} holds Python objects, not just tensors; refusing to unpickle it",
            hint=_FOREIGN_HINT,
        ) from exc
    except Exception as exc:  # torch raises many types on a damaged archive or foreign bytes
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserInputError(
            f"T5 checkpoint {path} is unreadable, probably truncated or corrupt ({reason})",
            hint=_REDOWNLOAD_HINT,
        ) from exc
    if not isinstance(sd, Mapping) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise UserInputError(
            f"T5 checkpoint {path} is not a state dict of tensors", hint=_FOREIGN_HINT
        )
    return dict(sd)


def t5_encoder_from_state_dict(
    sd: Mapping[str, torch.Tensor], *, source: str = "state dict", expected: T5Config | None = None
) -> T5Encoder:
    """Build on meta and assign the tensors (they keep their dtype and storage); strict key check."""
    try:
        cfg = t5_config_from_state_dict(sd)
    except ValueError as exc:
        raise UserInputError(
            f"{source} is not a umT5 encoder checkpoint: {exc}", hint=_FOREIGN_HINT
        ) from exc
    if expected is not None and cfg != expected:
        raise UserInputError(
            f"{source} is a umT5 encoder of another size (dim {cfg.dim}, {cfg.num_layers} layers, "
            f"vocab {cfg.vocab_size}) than expected (dim {expected.dim}, {expected.num_layers} layers, "
            f"vocab {expected.vocab_size})",
            hint=_FOREIGN_HINT,
        )
    with torch.device("meta"):
        model = T5Encoder(cfg)
    missing = sorted(set(model.state_dict()) - set(sd))
    unexpected = sorted(set(sd) - set(model.state_dict()))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {_describe(missing)}")
        if unexpected:
            parts.append(f"unexpected {_describe(unexpected)}")
        raise UserInputError(
            f"{source} does not have the umT5 encoder layout: {'; '.join(parts)}",
            hint=_FOREIGN_HINT,
        )
    try:
        model.load_state_dict(sd, strict=True, assign=True)
    except RuntimeError as exc:  # inconsistent shapes between layers
        reason = " ".join(str(exc).split())[:300]
        raise UserInputError(
            f"{source} has inconsistent tensor shapes: {reason}", hint=_FOREIGN_HINT
        ) from exc
    return model.eval().requires_grad_(False)


def load_t5_encoder(
    path: str | os.PathLike[str],
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str = "cpu",
    expected: T5Config | None = None,
) -> T5Encoder:
    """Load an official-format file. dtype None keeps the file's dtype (bf16 for the real file)."""
    model = t5_encoder_from_state_dict(
        read_t5_state_dict(path), source=f"T5 checkpoint {path}", expected=expected
    )
    dtypes = {p.dtype for p in model.parameters()}
    if dtype is not None and dtypes != {dtype}:
        model = model.to(dtype)  # the one deliberate cast
    return model.to(device)


def save_t5_encoder(
    model_or_sd: T5Encoder | Mapping[str, torch.Tensor],
    path: str | os.PathLike[str],
    *,
    dtype: torch.dtype | None = torch.bfloat16,
) -> Path:
    """Write the official format (a plain state dict); via a temp name so a partial file never looks done."""
    path = Path(path)
    sd = model_or_sd.state_dict() if isinstance(model_or_sd, torch.nn.Module) else model_or_sd
    out = {k: v.detach().to("cpu", dtype or v.dtype).contiguous() for k, v in sd.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    torch.save(out, tmp)
    os.replace(tmp, path)
    return path


# ---- tiny stand-ins for tests (never the real model)


def tiny_t5_config(vocab_size: int, **overrides: int) -> T5Config:
    """A 2-layer, 4-head umT5 (head_dim 8) that runs in milliseconds on a CPU."""
    fields: dict[str, int] = dict(
        vocab_size=vocab_size, dim=32, dim_attn=32, dim_ffn=48, num_heads=4, num_layers=2
    )
    fields.update(overrides)
    return T5Config(**fields)


def tiny_t5(seed: int = 0, vocab_size: int = 512, **overrides: int) -> T5Encoder:
    """fp32 tiny encoder with every parameter random (norm weights too, so a parity test sees them)."""
    cfg = tiny_t5_config(vocab_size, **overrides)
    model = T5Encoder(cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if (
                name.endswith("norm1.weight")
                or name.endswith("norm2.weight")
                or name == "norm.weight"
            ):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith("pos_embedding.embedding.weight"):
                p.copy_(torch.randn(p.shape, generator=gen))
            elif name == "token_embedding.weight":
                p.copy_(torch.randn(p.shape, generator=gen))
            else:  # Linear [out, in]
                p.copy_(torch.randn(p.shape, generator=gen) * p.shape[1] ** -0.5)
    return model.eval().requires_grad_(False)


_SPECIALS = ("<pad>", "</s>", "<unk>")  # ids 0, 1, 2 as in the real umT5 vocabulary
_TINY_WORDS = (
    "a the of and in on at to with is are cat dog bird fish man woman girl boy child people car "
    "street city road river sea beach forest mountain grass snow rain sky sun moon night day light "
    "red green blue white black golden running walking flying dancing sitting playing video camera "
    "slow motion close up shot scene style cinematic realistic photo high quality low worst blurry "
    "static background"
).split()
# Common Chinese characters plus those of the official default negative prompt.
_TINY_HANZI = (
    "的一是在不了有和人这中大为上个我以要他时来用们生到作地于出就分对成会可发年动同也能下过子说种面"
    "而方后多定行学法所得经十三之进着等部度家力里如水化高自二理起小物现实加量都两体机当使点从好开它"
    "还些然前外天日那事平形相全表间样与关各重新线内数正心看原又么比或但第只没结解意月公无很情最已"
    "猫狗鸟鱼草地奔跑走路飞舞坐玩视频镜头慢动作特写场景风格电影真照片质红绿蓝白黑金色阳光夜晚城市街道"
    "河海滩森林山雪雨空太调艳丽过曝静态细节模糊清字幕品画整灰差低压缩残留丑陋缺余手指脸畸毁容肢融合止"
    "杂乱背景条腿很倒，。、！？：；"
)


def tiny_tokenizer_vocab() -> list[tuple[str, float]]:
    """Unigram pieces with log-prob scores: specials, '▁word' pieces preferred over single characters."""
    pieces: list[tuple[str, float]] = [(s, 0.0) for s in _SPECIALS]
    pieces.append(("▁", -3.0))
    seen = {p for p, _ in pieces}

    def add(piece: str, score: float) -> None:
        if piece not in seen:
            seen.add(piece)
            pieces.append((piece, score))

    for word in _TINY_WORDS:
        add("▁" + word, -4.0)
    for ch in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?;:'\"()-&<>/%":
        add(ch, -8.0)
        add("▁" + ch, -8.5)
    for ch in _TINY_HANZI:
        add(ch, -7.0)
        add("▁" + ch, -7.5)
    return pieces


def write_tiny_tokenizer(folder: str | os.PathLike[str]) -> Path:
    """Write a tiny umT5-like tokenizer folder that `AutoTokenizer.from_pretrained(folder)` loads.

    Same layout and conventions as the real `google/umt5-xxl` folder minus `spiece.model`:
    a Unigram `tokenizer.json` with `<pad>`=0, `</s>`=1, `<unk>`=2, a Metaspace pre-tokenizer and a
    post-processor appending `</s>`; `tokenizer_config.json` naming `T5Tokenizer`; `special_tokens_map.json`.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.Unigram(tiny_tokenizer_vocab(), unk_id=2, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single=["$A", "</s>"], pair=["$A", "</s>", "$B", "</s>"], special_tokens=[("</s>", 1)]
    )
    tok.add_special_tokens(list(_SPECIALS))
    tok.save(str(folder / "tokenizer.json"))
    specials = {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
    config = {
        "tokenizer_class": "T5Tokenizer",
        "extra_ids": 0,
        "additional_special_tokens": [],
        "model_max_length": 512,
        **specials,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (folder / "special_tokens_map.json").write_text(
        json.dumps(specials, indent=2), encoding="utf-8"
    )
    return folder
