"""Hugging Face (or a mirror of it): listing, per-file metadata and resolved URLs via huggingface_hub.

huggingface_hub reads ``HF_ENDPOINT``, ``HF_TOKEN`` and ``HF_HUB_OFFLINE``; an explicit ``endpoint``
(a mirror) wins over ``HF_ENDPOINT``.
"""

from __future__ import annotations

from wan22_desktop.downloader.remote import (
    RemoteFile,
    failure_reason,
    quiet_library_loggers,
    safe_relpath,
)
from wan22_desktop.errors import OperationError


def _offline() -> bool:
    from huggingface_hub import constants

    return (
        bool(constants.is_offline_mode())
        if hasattr(constants, "is_offline_mode")
        else bool(constants.HF_HUB_OFFLINE)
    )


def list_files(
    repo_id: str,
    *,
    revision: str | None = None,
    endpoint: str | None = None,
    token: str | None = None,
) -> tuple[str, list[RemoteFile]]:
    """The repo's files at one commit: (commit, files). URLs are pinned to that commit so a push
    during a long download cannot mix two versions."""
    if _offline():
        raise OperationError(
            "Hugging Face is in offline mode (HF_HUB_OFFLINE is set)",
            hint="unset HF_HUB_OFFLINE to download, or import a folder you already have",
        )
    from huggingface_hub import HfApi, RepoFile, hf_hub_url
    from huggingface_hub.errors import RepositoryNotFoundError
    from huggingface_hub.utils import build_hf_headers

    quiet_library_loggers("huggingface_hub")
    api = HfApi(endpoint=endpoint, token=token)
    try:
        info = api.model_info(repo_id, revision=revision)
        commit = info.sha or revision or "main"
        entries = list(api.list_repo_tree(repo_id, recursive=True, revision=commit))
    except RepositoryNotFoundError as exc:
        raise OperationError(
            f"{repo_id} not found on {api.endpoint}",
            hint="check the model name, or log in if the repo is gated",
        ) from exc
    except Exception as exc:  # noqa: BLE001 - httpx, hub and OS errors all mean "this source failed"
        raise OperationError(
            f"cannot list {repo_id} on {api.endpoint}: {failure_reason(exc)}",
            hint="check the network or try another source (--source modelscope)",
        ) from exc
    headers = build_hf_headers(token=token)
    files = []
    for e in entries:
        if not isinstance(e, RepoFile):  # a folder
            continue
        path = safe_relpath(e.path)
        lfs = e.lfs
        files.append(
            RemoteFile(
                path=path,
                size=int(lfs.size if lfs else e.size),
                url=hf_hub_url(repo_id, path, revision=commit, endpoint=api.endpoint),
                headers=dict(headers),
                sha256=lfs.sha256 if lfs else None,
                git_sha1=None if lfs else e.blob_id,
                # The hub's ETag for an LFS file is its sha256 (quoted); for git files the blob id.
                etag=f'"{lfs.sha256}"' if lfs else f'"{e.blob_id}"',
            )
        )
    return commit, files
