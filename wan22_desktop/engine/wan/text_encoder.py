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
import platform
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
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
CACHE_SIZE = 4  # encoded texts kept per encoder (the default negative prompt, mostly)
# A trimmed run covers at least this many positions (the rest masked as official): torch's CPU
# bmm takes a naive kernel, with another summation order, below 400 multiply-adds per head, so a
# 1-3 token prompt would not match the padded run bit for bit. 16 costs nothing.
MIN_RUN = 16

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


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX on x86, BF16 on Arm).

    Without it, bf16 matmuls are emulated and 6-8x slower than fp32 (review §3.4). Linux reads
    the CPU flags; Apple Silicon is taken as native; anything else as not (fp32 is the safe side).
    """
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return platform.system() == "Darwin" and platform.machine() == "arm64"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            flags = set(value.split())
            return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})
    return False


def t5_compute_dtype(run_on: torch.device, weight_dtype: torch.dtype) -> torch.dtype:
    """The dtype T5 computes in: its weights' dtype, except bf16 on a CPU without native bf16,
    which computes in fp32 (weights stay bf16 in memory; only bf16 rounding of intermediates
    differs)."""
    if run_on.type == "cpu" and weight_dtype == torch.bfloat16 and not cpu_has_native_bf16():
        return torch.float32
    return weight_dtype


class T5TextEncoder:
    """Prompts -> list of [L_i, dim] embeddings, L_i = the prompt's real token count including `</s>`.

    The model runs where its weights are (see `to`); outputs go to `output_device` (default: the
    model's device). That split is `t5_cpu`: weights stay on the CPU, embeddings go to the GPU.

    Each prompt is encoded over its real tokens only (``trim``): the padded keys are masked to
    exact zeros in the softmax, so the real positions come out bit-identical to the official
    padded run at a fraction of the work (512 -> ~100 tokens). ``compute_dtype`` (None: the
    weights') lets bf16 weights compute in fp32 where the hardware has no bf16 (the CPU).
    ``encode_cached`` keeps a few results (the negative prompt) across jobs.
    """

    def __init__(
        self,
        model: T5Encoder,
        tokenizer: Any,
        *,
        text_len: int = TEXT_LEN,
        output_device: torch.device | str | None = None,
        trim: bool = True,
        compute_dtype: torch.dtype | None = None,
    ) -> None:
        if text_len < 1:
            raise ValueError(f"text_len must be positive, got {text_len}")
        self.model = model
        self.tokenizer = tokenizer
        self.text_len = text_len
        self.output_device = None if output_device is None else torch.device(output_device)
        self.trim = trim
        self.compute_dtype = compute_dtype
        self._cache: OrderedDict[tuple[object, ...], torch.Tensor] = OrderedDict()

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
        """Each prompt's real-token embeddings (truncated to text_len as official), [L_i, dim].

        trim: one run per prompt over its L_i tokens; otherwise the official run over all
        text_len positions with the mask, then cut. Same values at the real positions.
        """
        ids, mask = self.tokenize(prompts)
        vocab = self.model.config.vocab_size
        if int(ids.max()) >= vocab:
            raise UserInputError(
                f"the tokenizer produced token id {int(ids.max())} but the text encoder has only {vocab} embeddings",
                hint="The tokenizer folder does not belong to this T5 checkpoint.",
            )
        ids, mask = ids.to(self.device), mask.to(self.device)
        lengths = mask.gt(0).sum(dim=1).tolist()
        target = self.output_device or self.device
        if self.trim:
            # real tokens are a prefix (right padding): run the first max(n, MIN_RUN) positions
            width = ids.size(1)
            rows = []
            for i, n in enumerate(lengths):
                m = min(width, max(n, MIN_RUN))
                keys = mask[i : i + 1, :m] if m > n else None
                rows.append(self._run(ids[i : i + 1, :m], keys, width)[0, :n].to(target))
            return rows
        full = self._run(ids, mask, None)  # [B, text_len, dim]
        return [row[:n].to(target) for row, n in zip(full, lengths)]

    __call__ = encode

    def _run(self, ids: torch.Tensor, mask: torch.Tensor | None, width: int | None) -> torch.Tensor:
        compute = self.compute_dtype
        if compute is None or compute == self.dtype:
            return self.model(ids, mask, softmax_width=width)
        return self.model(ids, mask, compute_dtype=compute, softmax_width=width).to(self.dtype)

    @torch.no_grad()
    def encode_cached(self, text: str) -> list[torch.Tensor]:
        """``encode([text])``, remembered (keyed by text, dtypes, devices, text_len) so that a
        warm worker encodes the default negative prompt once. Callers must not modify it."""
        key = (
            text,
            self.dtype,
            self.compute_dtype,
            str(self.device),
            str(self.output_device or self.device),
            self.text_len,
            self.trim,
        )
        hit = self._cache.get(key)
        if hit is None:
            hit = self.encode([text])[0]
            self._cache[key] = hit
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return [hit]

    def clear_cache(self) -> None:
        self._cache.clear()


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
    return T5TextEncoder(
        model,
        tokenizer,
        text_len=text_len,
        output_device=target,
        compute_dtype=t5_compute_dtype(run_on, dtype),
    )
