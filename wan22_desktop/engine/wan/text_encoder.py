"""The usable text encoder: official prompt cleaning, umT5 tokenization, encoding, per-prompt trimming.

Tokenizer folder (`<ckpt>/google/umt5-xxl`, which ships `spiece.model`, `tokenizer.json`,
`tokenizer_config.json`, `special_tokens_map.json`): `AutoTokenizer` needs `tokenizer.json` (Unigram
vocabulary, normalizer, `</s>` template) and one of `tokenizer_config.json` (names the class,
`T5Tokenizer`, and the special tokens) or `special_tokens_map.json` (without both there is no pad
token). `spiece.model` is not read while tokenizer.json exists; alone it did not load here
(transformers 5 could not convert it without `protobuf`).
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ftfy
import regex
import torch

from wan22_desktop.errors import UserInputError

from .t5 import T5Encoder
from .t5_config import UMT5_XXL, T5Config
from .t5_io import load_t5_encoder

log = logging.getLogger(__name__)

TEXT_LEN = 512  # the official shared config's text_len

_WHITESPACE = regex.compile(r"\s+")


def clean_prompt(text: str) -> str:
    """The official `clean='whitespace'`: ftfy, html-unescape twice, collapse whitespace runs, strip."""
    text = ftfy.fix_text(text)
    text = html.unescape(html.unescape(text)).strip()
    return _WHITESPACE.sub(" ", text).strip()


def load_tokenizer(folder: str | os.PathLike[str]) -> Any:
    """AutoTokenizer from a local folder only (never the Hub); UserInputError naming the folder on failure."""
    from transformers import AutoTokenizer

    folder = Path(folder)
    redownload = "Download google/umt5-xxl/ again from the Wan2.2 model repository."
    if not (folder / "tokenizer.json").is_file():
        raise UserInputError(
            f"umT5 tokenizer not found: {folder / 'tokenizer.json'} is missing",
            hint="The model folder needs google/umt5-xxl/ with tokenizer.json and tokenizer_config.json.",
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except Exception as exc:  # transformers raises many types for a broken folder
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserInputError(
            f"cannot load the umT5 tokenizer from {folder} ({reason})", hint=redownload
        ) from exc
    if tokenizer.pad_token_id is None or tokenizer.eos_token_id is None:
        raise UserInputError(
            f"the umT5 tokenizer in {folder} defines no pad or end-of-sequence token",
            hint="tokenizer_config.json or special_tokens_map.json is missing; " + redownload,
        )
    return tokenizer


def resolve_t5_device(
    device: torch.device | str, t5_cpu: bool, cuda_available: bool
) -> torch.device:
    """Where the encoder runs: the CPU with t5_cpu (the official `--t5_cpu`) or when CUDA is absent."""
    device = torch.device(device)
    if t5_cpu:
        return torch.device("cpu")
    if device.type == "cuda" and not cuda_available:
        log.warning("CUDA is not available; running the text encoder on the CPU")
        return torch.device("cpu")
    return device


class T5TextEncoder:
    """Prompts -> list of [L_i, dim] embeddings, L_i = the prompt's real token count including `</s>`.

    The model runs where its weights are (see `to`); outputs go to `output_device` (default: the
    model's device). That split is `t5_cpu`: weights stay on the CPU, embeddings go to the GPU.
    """

    def __init__(
        self,
        model: T5Encoder,
        tokenizer: Any,
        *,
        text_len: int = TEXT_LEN,
        output_device: torch.device | str | None = None,
    ) -> None:
        if text_len < 1:
            raise ValueError(f"text_len must be positive, got {text_len}")
        self.model = model
        self.tokenizer = tokenizer
        self.text_len = text_len
        self.output_device = None if output_device is None else torch.device(output_device)

    @property
    def device(self) -> torch.device:
        return self.model.token_embedding.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.model.token_embedding.weight.dtype

    def to(self, device: torch.device | str) -> T5TextEncoder:
        """Move the weights (e.g. back to the CPU after encoding, the official offload)."""
        self.model.to(device)
        return self

    def tokenize(self, prompts: str | Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Cleaned prompts -> ids and attention mask, both [B, text_len] int64, `</s>` appended, padded."""
        if isinstance(prompts, str):
            prompts = [prompts]
        batch = self.tokenizer(
            [clean_prompt(p) for p in prompts],
            padding="max_length",
            truncation=True,
            max_length=self.text_len,
            add_special_tokens=True,
            return_attention_mask=True,
            return_tensors="pt",
        )
        return batch["input_ids"], batch["attention_mask"]

    @torch.no_grad()
    def encode(self, prompts: str | Sequence[str]) -> list[torch.Tensor]:
        """Run all text_len positions with the mask, then keep each prompt's real tokens (as official)."""
        ids, mask = self.tokenize(prompts)
        vocab = self.model.config.vocab_size
        if int(ids.max()) >= vocab:
            raise UserInputError(
                f"the tokenizer produced token id {int(ids.max())} but the text encoder has only {vocab} embeddings",
                hint="The tokenizer folder does not belong to this T5 checkpoint.",
            )
        ids, mask = ids.to(self.device), mask.to(self.device)
        lengths = mask.gt(0).sum(dim=1).tolist()
        out = self.model(ids, mask)  # [B, text_len, dim]
        target = self.output_device or self.device
        return [row[:n].to(target) for row, n in zip(out, lengths)]

    __call__ = encode


def load_text_encoder(
    checkpoint: str | os.PathLike[str],
    tokenizer_dir: str | os.PathLike[str],
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.bfloat16,
    t5_cpu: bool = False,
    text_len: int = TEXT_LEN,
    expected: T5Config | None = UMT5_XXL,
) -> T5TextEncoder:
    """Load the official T5 file and tokenizer. device: where the pipeline runs (embeddings end up there).

    dtype bf16 is the official choice, on GPU and with t5_cpu alike. `expected` rejects a file of
    another size before anything is moved to the GPU; tests pass `expected=None` for tiny models.
    """
    cuda = torch.cuda.is_available()
    target = resolve_t5_device(device, False, cuda)
    run_on = resolve_t5_device(device, t5_cpu, cuda)
    tokenizer = load_tokenizer(tokenizer_dir)
    model = load_t5_encoder(checkpoint, dtype=dtype, device=run_on, expected=expected)
    return T5TextEncoder(model, tokenizer, text_len=text_len, output_device=target)
