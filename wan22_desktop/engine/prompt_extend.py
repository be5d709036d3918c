"""Prompt extension: a language model rewrites the user's prompt into a richer one before T5.

Two methods, as in the official Wan2.2 ``wan/utils/prompt_extend.py``:
- ``dashscope``: Alibaba's hosted Qwen through the ``dashscope`` SDK (``qwen-plus`` for text,
  ``qwen-vl-max`` when an image is given); ``$DASH_API_URL`` selects the endpoint (international
  users set ``https://dashscope-intl.aliyuncs.com/api/v1``).
- ``local_qwen``: Qwen2.5 instruct (text) or Qwen2.5-VL (image) through transformers, loaded only
  for the extension and released before the DiT is loaded, so it never competes with the video
  for memory.

A failure never breaks a job: ``extend_prompt`` returns the original prompt with a warning, unless
the caller asked for extension to be required. torch and transformers are imported only inside
the local path, so importing this module is cheap (the GUI may import it).
"""

from __future__ import annotations

import base64
import gc
import io
import logging
import os
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from wan22_desktop.engine.prompt_system import LANGS, prompt_kind, system_prompt
from wan22_desktop.errors import OperationError, UserInputError

log = logging.getLogger(__name__)

Method = Literal["dashscope", "local_qwen"]
METHODS: tuple[str, ...] = ("dashscope", "local_qwen")

DASHSCOPE_TEXT_MODEL = "qwen-plus"
DASHSCOPE_VISION_MODEL = "qwen-vl-max"
DASHSCOPE_DEFAULT_URL = "https://dashscope.aliyuncs.com/api/v1"
DASHSCOPE_URL_ENV = "DASH_API_URL"
RETRY_TIMES = 4  # attempts per extension, as official
RETRY_BACKOFF_S = 1.0  # wait before attempt n+1: n * this; only for transient failures
MAX_IMAGE_AREA = 512 * 512  # the image sent to the vision model, as official

QWEN_ALIASES: dict[str, str] = {
    "QwenVL2.5_3B": "Qwen/Qwen2.5-VL-3B-Instruct",
    "QwenVL2.5_7B": "Qwen/Qwen2.5-VL-7B-Instruct",
    "Qwen2.5_3B": "Qwen/Qwen2.5-3B-Instruct",
    "Qwen2.5_7B": "Qwen/Qwen2.5-7B-Instruct",
    "Qwen2.5_14B": "Qwen/Qwen2.5-14B-Instruct",
}
LOCAL_TEXT_MODEL = "Qwen2.5_14B"
LOCAL_VISION_MODEL = "QwenVL2.5_7B"
MAX_NEW_TOKENS = 512
VL_MIN_PIXELS = 256 * 28 * 28
VL_MAX_PIXELS = 1280 * 28 * 28
IMAGE_TOKEN = "<|image_pad|>"
MEMORY_MARGIN = 1.2  # weights x this must fit: activations, KV cache and the allocator need room


@dataclass(frozen=True)
class ExtendResult:
    """What extension produced. On failure ``prompt`` is the original and ``warning`` says why."""

    ok: bool
    prompt: str
    original: str
    method: str
    model: str
    warning: str | None
    seconds: float
    seed: int | None = None


class _Failure(Exception):
    """One failed attempt: a one-line reason, a hint, and whether another attempt may help."""

    def __init__(self, reason: str, hint: str | None = None, retry: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint
        self.retry = retry


# ---- public entry point


def extend_prompt(
    prompt: str,
    *,
    method: Method,
    target_lang: Literal["zh", "en"],
    image: str | Path | None = None,
    model: str | None = None,
    seed: int = -1,
    required: bool = False,
    api_key: str | None = None,
    device: str = "cpu",
    timeout: float = 60.0,
    max_new_tokens: int = MAX_NEW_TOKENS,
) -> ExtendResult:
    """Extend ``prompt`` (or write one from ``image`` when the prompt is empty).

    ``seed < 0`` draws a random seed (as official); the seed used is in the result, so a local
    extension can be repeated exactly. ``required=True`` turns a failure into an
    ``OperationError`` with the reason; otherwise the original prompt comes back with a warning.
    """
    if method not in METHODS:
        raise UserInputError(
            f"unknown prompt extension method {method!r}", "use dashscope or local_qwen"
        )
    if target_lang not in LANGS:
        raise UserInputError(f"unknown target language {target_lang!r}", "use zh or en")
    if image is None and not prompt.strip():
        raise UserInputError(
            "nothing to extend: the prompt is empty and no image was given",
            "write a prompt, or give an image for the vision model to describe",
        )
    started = time.perf_counter()
    seed = seed if seed >= 0 else random.randint(0, 2**31 - 1)
    system = system_prompt(prompt_kind(prompt, image is not None), target_lang)
    vision = image is not None
    used_model = model or _default_model(method, vision)
    key_for_scrub = api_key
    try:
        if method == "dashscope":
            key_for_scrub = api_key or _dashscope_key()
            text = _dashscope_extend(
                prompt, system, image, used_model, seed, key_for_scrub, timeout
            )
        else:
            text = _local_qwen_extend(
                prompt, system, image, used_model, seed, device, max_new_tokens
            )
        text = clean_output(text)
        if not text:
            raise _Failure("the model returned an empty prompt", retry=False)
    except _Failure as f:
        return _failed(
            prompt,
            method,
            used_model,
            seed,
            started,
            required,
            _scrub(f.reason, key_for_scrub),
            f.hint,
        )
    except Exception as exc:  # noqa: BLE001 - extension must never crash a job; details to the log
        log.exception("prompt extension crashed")
        reason = _scrub(f"{type(exc).__name__}: {exc}".splitlines()[0][:300], key_for_scrub)
        return _failed(
            prompt,
            method,
            used_model,
            seed,
            started,
            required,
            reason,
            "see the log file for details",
        )
    seconds = time.perf_counter() - started
    log.info("prompt extended with %s/%s in %.1f s (seed %d)", method, used_model, seconds, seed)
    return ExtendResult(True, text, prompt, method, used_model, None, seconds, seed)


class ExtendOptions(Protocol):
    """What a job asks for (``request.PromptExtendOptions`` has these fields)."""

    # Read-only (properties): the request's options are a frozen dataclass.
    @property
    def enabled(self) -> bool: ...
    @property
    def method(self) -> str: ...
    @property
    def model(self) -> str | None: ...
    @property
    def target_lang(self) -> str: ...
    @property
    def required(self) -> bool: ...


def extend_with_options(
    options: ExtendOptions,
    prompt: str,
    *,
    image: str | Path | None = None,
    seed: int = -1,
    device: str = "cpu",
) -> ExtendResult | None:
    """The worker's extension step: None when the job did not ask for extension."""
    if not options.enabled:
        return None
    return extend_prompt(
        prompt,
        method=options.method,  # type: ignore[arg-type]
        target_lang=options.target_lang,  # type: ignore[arg-type]
        image=image,
        model=options.model,
        seed=seed,
        required=options.required,
        device=device,
    )


def _failed(
    prompt: str,
    method: str,
    model: str,
    seed: int,
    started: float,
    required: bool,
    reason: str,
    hint: str | None,
) -> ExtendResult:
    if required:
        # from None: the inner failure may quote a server reply (and with it the key); the reason
        # above is already scrubbed, and the log has the inner traceback (redacted) if any.
        raise OperationError(f"prompt extension failed: {reason}", hint) from None
    warning = f"prompt extension failed: {reason}; the original prompt was used"
    if hint:
        warning += f" (hint: {hint})"
    log.warning("%s", warning)
    return ExtendResult(
        False, prompt, prompt, method, model, warning, time.perf_counter() - started, seed
    )


def _default_model(method: str, vision: bool) -> str:
    if method == "dashscope":
        return DASHSCOPE_VISION_MODEL if vision else DASHSCOPE_TEXT_MODEL
    return LOCAL_VISION_MODEL if vision else LOCAL_TEXT_MODEL


def clean_output(text: str) -> str:
    """One line of prompt: models wrap lines or quote their answer, T5 wants plain text.

    (The official code turns newlines into a literal backslash-n; spaces read better.)
    """
    text = re.sub(r"\s+", " ", text or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'“”":
        text = text[1:-1].strip()
    if len(text) >= 2 and text[0] == "“" and text[-1] == "”":
        text = text[1:-1].strip()
    return text


def _scrub(text: str, key: str | None) -> str:
    """Never let the key into a message, even if a server or exception echoes it."""
    from wan22_desktop.logs import redact, register_secret

    if key and key in text:
        from wan22_desktop.secrets import mask

        text = text.replace(key, mask(key))
    register_secret(key)
    text = redact(text)
    return text


def load_image(image: str | Path) -> Any:
    """The image as RGB PIL; a missing or unreadable file is a failure, not a crash."""
    from PIL import Image, UnidentifiedImageError

    path = Path(image)
    if not path.is_file():
        raise _Failure(f"image not found: {path.name}", "check the image path")
    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise _Failure(f"cannot read the image {path.name}: {type(exc).__name__}") from None


def fit_area(width: int, height: int, max_area: int = MAX_IMAGE_AREA) -> tuple[int, int]:
    """(w, h) scaled to at most ``max_area`` pixels with the same aspect ratio (never enlarged)."""
    area = min(width * height, max_area)
    ratio = height / width
    return max(1, round((area / ratio) ** 0.5)), max(1, round((area * ratio) ** 0.5))


# ---- DashScope


def _dashscope_key() -> str:
    from wan22_desktop.secrets import get_dashscope_key

    key = get_dashscope_key()
    if not key:
        raise _Failure(
            "no DashScope API key", "store one with `wan22 keys set dashscope` or set DASH_API_KEY"
        )
    return key


def image_data_uri(image: str | Path) -> str:
    """The image, shrunk to the official 512x512 area, as a PNG data URI.

    Sent inline instead of the SDK's ``file://`` upload: no temporary file, no second request to
    an upload host, and nothing left behind on failure.
    """
    im = load_image(image)
    im = im.resize(fit_area(im.width, im.height))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _guard_text(text: str) -> str:
    """The SDK uploads any user text element that names an existing file; quote such text."""
    if text.startswith("file://") or (text.strip() and os.path.isfile(os.path.expanduser(text))):
        return f"“{text}”"
    return text


def _dashscope_messages(prompt: str, system: str, image: str | Path | None) -> list[dict]:
    if image is None:
        return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
    return [
        {"role": "system", "content": [{"text": system}]},
        {
            "role": "user",
            "content": [{"text": _guard_text(prompt)}, {"image": image_data_uri(image)}],
        },
    ]


def _dashscope_extend(
    prompt: str,
    system: str,
    image: str | Path | None,
    model: str,
    seed: int,
    key: str,
    timeout: float,
) -> str:
    """Call DashScope up to ``RETRY_TIMES`` times; auth and request errors stop at once."""
    import dashscope

    logging.getLogger("dashscope").setLevel(logging.CRITICAL)  # it logs full request bodies
    base_url = os.environ.get(DASHSCOPE_URL_ENV, "").strip() or DASHSCOPE_DEFAULT_URL
    messages = _dashscope_messages(prompt, system, image)
    api = dashscope.MultiModalConversation if image is not None else dashscope.Generation
    failure = _Failure("DashScope was not called")
    for attempt in range(1, RETRY_TIMES + 1):
        try:
            response = api.call(
                model,
                # dashscope hints list[Message] (a dict subclass); its docs and code take plain dicts
                messages=messages,  # type: ignore[arg-type]
                seed=seed % 2**31,  # API's range
                result_format="message",
                api_key=key,
                base_address=base_url,
                request_timeout=timeout,
            )
            return _dashscope_text(response)
        except _Failure as f:
            failure = f
        except Exception as exc:  # noqa: BLE001 - classified below; the SDK raises many kinds
            failure = _classify_exception(exc, base_url, timeout)
        log.info(
            "DashScope attempt %d/%d failed: %s", attempt, RETRY_TIMES, _scrub(failure.reason, key)
        )
        if not failure.retry:
            break
        if attempt < RETRY_TIMES:
            time.sleep(RETRY_BACKOFF_S * attempt)
    raise failure


def _dashscope_text(response: Any) -> str:
    """The reply's text, or a ``_Failure`` that says what the HTTP status means."""
    status = int(getattr(response, "status_code", 0) or 0)
    code = getattr(response, "code", "") or ""
    message = str(getattr(response, "message", "") or "")[:160]
    detail = f"HTTP {status}{' ' + code if code else ''}{': ' + message if message else ''}"
    if status == 200:
        try:
            content = response.output["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise _Failure("DashScope sent a malformed reply", retry=True) from None
        if isinstance(content, list):  # vision replies: [{"text": ...}, ...]
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            raise _Failure("DashScope sent a malformed reply", retry=True)
        return content
    if status == 401:
        raise _Failure(
            f"DashScope rejected the API key ({detail})",
            "check the key with `wan22 keys set dashscope`; keys from the "
            "international console need DASH_API_URL="
            "https://dashscope-intl.aliyuncs.com/api/v1",
        )
    if status == 429:
        raise _Failure(
            f"DashScope quota or rate limit reached ({detail})",
            "wait and retry, or check the quota in the DashScope console",
            retry=True,
        )
    if status in (400, 403, 404):
        raise _Failure(
            f"DashScope refused the request ({detail})",
            "check the model name and that your account may use it",
        )
    raise _Failure(f"DashScope error ({detail})", "try again later", retry=True)


def _classify_exception(exc: Exception, base_url: str, timeout: float) -> _Failure:
    import requests

    if isinstance(exc, requests.exceptions.Timeout):
        return _Failure(
            f"DashScope did not answer within {timeout:g} s",
            "check the network, or try again later",
            retry=True,
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        host = re.sub(r"^\w+://", "", base_url).split("/")[0]
        return _Failure(
            f"cannot reach DashScope at {host}",
            "check the network connection (and DASH_API_URL)",
            retry=True,
        )
    if isinstance(exc, (ValueError, KeyError, TypeError)):  # e.g. a reply that is not JSON
        return _Failure(f"DashScope sent a malformed reply ({type(exc).__name__})", retry=True)
    return _Failure(f"DashScope call failed ({type(exc).__name__})", retry=True)


# ---- local Qwen (transformers)


def resolve_local_model(name: str, *, models_dir: Path | None = None) -> Path:
    """The folder of a local Qwen model: a path, an alias or hub id already downloaded (by our
    downloader into the models folder, or in the Hugging Face cache). Never downloads."""
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise _Failure(f"{path.name} is not a model folder (no config.json)")
        return path
    repo = QWEN_ALIASES.get(name, name)
    if os.sep in name and not re.fullmatch(r"[\w.-]+/[\w.-]+", name):
        raise _Failure(f"model folder not found: {name}", "check the path")
    if models_dir is None:
        from wan22_desktop.paths import app_paths

        models_dir = app_paths().models
    short = repo.split("/")[-1]
    for candidate in (models_dir / repo, models_dir / repo.replace("/", "--"), models_dir / short):
        if (candidate / "config.json").is_file():
            return candidate
    try:
        from huggingface_hub import snapshot_download

        cached = Path(snapshot_download(repo, local_files_only=True))
        if (cached / "config.json").is_file():
            return cached
    except Exception:  # noqa: BLE001 - not in the cache (or not a valid repo id): report below
        pass
    raise _Failure(
        f"local model {repo} is not downloaded",
        f"download it with `wan22 models download {repo}`, or use a smaller "
        "model or the dashscope method",
    )


def weights_bytes(folder: Path) -> int:
    """Size of the weight files (what loading will put in memory at the stored dtype)."""
    files = list(folder.glob("*.safetensors")) or list(folder.glob("*.bin"))
    return sum(f.stat().st_size for f in files)


def memory_shortfall(need_bytes: int, free_bytes: int, margin: float = MEMORY_MARGIN) -> int:
    """How many bytes are missing to load ``need_bytes`` of weights (0 when it fits)."""
    return max(0, int(need_bytes * margin) - free_bytes)


def free_memory(device: str) -> int:
    """Free bytes where the model will live: VRAM of a CUDA device, else available RAM."""
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.mem_get_info(torch.device(device))[0])
    import psutil

    return int(psutil.virtual_memory().available)


def _check_fits(folder: Path, device: str) -> None:
    """Fail before loading, not by an OOM halfway: the weights load into RAM, then move to the
    GPU when one is used, so both must have room."""
    need = weights_bytes(folder)
    for where in ["cpu", device] if device.startswith("cuda") else ["cpu"]:
        free = free_memory(where)
        if memory_shortfall(need, free):
            gib = 1024**3
            kind = "GPU memory" if where.startswith("cuda") else "RAM"
            raise _Failure(
                f"{folder.name} needs about {need * MEMORY_MARGIN / gib:.1f} GiB of {kind}, "
                f"{free / gib:.1f} GiB is free",
                "choose a smaller model (e.g. Qwen2.5_3B / QwenVL2.5_3B) or the dashscope method",
            )


def _is_vision_model(folder: Path) -> bool:
    import json

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise _Failure(f"cannot read {folder.name}/config.json") from None
    return "vision_config" in config


def _resolve_device(device: str) -> str:
    """CUDA when asked and present; otherwise the CPU (the fallback on machines without a GPU)."""
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            log.warning("CUDA is not available; prompt extension runs on the CPU")
            return "cpu"
    return device


def _local_qwen_extend(
    prompt: str,
    system: str,
    image: str | Path | None,
    model: str,
    seed: int,
    device: str,
    max_new_tokens: int,
) -> str:
    folder = resolve_local_model(model)
    pil_image = load_image(image) if image is not None else None
    if pil_image is not None and not _is_vision_model(folder):
        raise _Failure(
            f"{folder.name} is a text-only model; image prompts need a Qwen-VL model",
            "use e.g. --prompt_extend_model QwenVL2.5_7B, or no image",
        )
    device = _resolve_device(device)
    _check_fits(folder, device)
    if pil_image is None:
        return _generate_text(folder, prompt, system, seed, device, max_new_tokens)
    return _generate_vision(folder, prompt, system, pil_image, seed, device, max_new_tokens)


def _seeded_generate(model: Any, inputs: Any, seed: int, device: str, max_new_tokens: int) -> Any:
    """``generate`` with its own RNG state: the model's sampling settings, repeatable by seed,
    without disturbing the caller's global RNG."""
    import torch

    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices), torch.inference_mode():
        torch.manual_seed(seed)
        return model.generate(**inputs, max_new_tokens=max_new_tokens)


def _release() -> None:
    """Return the freed model's memory (the caller has dropped its last reference) before the DiT
    is loaded; on CUDA the caching allocator would otherwise keep it."""
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


def _generate_text(
    folder: Path, prompt: str, system: str, seed: int, device: str, max_new_tokens: int
) -> str:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype="auto", local_files_only=True)
    # transformers decorates .to with functools.wraps(nn.Module.to), which hides the bound self
    model = model.to(device).eval()  # type: ignore[arg-type]
    try:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = tokenizer([text], return_tensors="pt").to(model.device)
        out = _seeded_generate(model, inputs, seed, device, max_new_tokens)
        new_tokens = out[0, inputs["input_ids"].shape[1] :]
        # One sequence decodes to one str; the stubs' return type covers batches too.
        return cast(str, tokenizer.decode(new_tokens, skip_special_tokens=True))
    finally:
        del model
        _release()


def _vision_inputs(folder: Path, prompt: str, system: str, image: Any) -> dict[str, Any]:
    """Token ids and pixel values for Qwen2-VL / Qwen2.5-VL, built the way their processor does
    for one image: the chat template's single image placeholder is expanded to one token per
    merged patch. Done here so the video half of the processor (which needs torchvision) is not
    required."""
    from transformers import AutoImageProcessor, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    image_processor = AutoImageProcessor.from_pretrained(
        folder, min_pixels=VL_MIN_PIXELS, max_pixels=VL_MAX_PIXELS, local_files_only=True
    )
    pixels = image_processor(images=[image], return_tensors="pt")
    merge = int(getattr(image_processor, "merge_size", 2))
    n_tokens = int(pixels["image_grid_thw"][0].prod()) // (merge * merge)
    # Multimodal content is a list of parts; the stubs only know ``content: str``.
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": [{"type": "text", "text": system}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]},
    ]
    # tokenize=False renders the template to one str; the stubs' return type covers token ids too.
    text = cast(
        str, tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    )
    if text.count(IMAGE_TOKEN) != 1:
        raise _Failure(
            f"{folder.name} is not a Qwen-VL model (its chat template has no image slot)",
            "use a QwenVL model for image prompts, e.g. QwenVL2.5_7B",
        )
    text = text.replace(IMAGE_TOKEN, IMAGE_TOKEN * n_tokens)
    encoded = tokenizer([text], return_tensors="pt")
    return {"tokenizer": tokenizer, **encoded, **pixels}


def _generate_vision(
    folder: Path, prompt: str, system: str, image: Any, seed: int, device: str, max_new_tokens: int
) -> str:
    from transformers import AutoModelForImageTextToText

    inputs = _vision_inputs(folder, prompt, system, image)
    tokenizer = inputs.pop("tokenizer")
    model = AutoModelForImageTextToText.from_pretrained(folder, dtype="auto", local_files_only=True)
    # transformers decorates .to with functools.wraps(nn.Module.to), which hides the bound self
    model = model.to(device).eval()  # type: ignore[arg-type]
    try:
        inputs = {k: v.to(device) for k, v in inputs.items()}
        if "pixel_values" in inputs:  # the vision tower runs in the model's dtype
            inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        out = _seeded_generate(model, inputs, seed, device, max_new_tokens)
        new_tokens = out[0, inputs["input_ids"].shape[1] :]
        return tokenizer.decode(new_tokens, skip_special_tokens=True)
    finally:
        del model
        _release()
