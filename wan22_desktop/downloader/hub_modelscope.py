"""ModelScope: listing (with sha256 and size) and file URLs via ``modelscope_hub``, the hub client
that ``modelscope`` itself delegates to. We call it directly because ``import modelscope`` pulls in
torch (~3 s, and the downloader must stay torch-free for the GUI process).

Endpoint: ``endpoint`` if given, else modelscope's own settings (``MODELSCOPE_ENDPOINT``, then the
older ``MODELSCOPE_DOMAIN``; a bare host gets ``https://``), else www.modelscope.cn. The token comes
from ``token`` or ``MODELSCOPE_API_TOKEN`` / a stored login, as modelscope resolves it.
"""

from __future__ import annotations

import os
import warnings

from wan22_desktop.downloader.remote import (
    RemoteFile,
    failure_reason,
    quiet_library_loggers,
    safe_relpath,
)
from wan22_desktop.errors import OperationError

DEFAULT_REVISION = "master"


def resolve(endpoint: str | None) -> str | None:
    """modelscope's endpoint rule, read at call time: the library caches its default config on
    first use, which would ignore a setting changed later in a long-lived app."""
    value = (
        endpoint
        or os.environ.get("MODELSCOPE_ENDPOINT")
        or os.environ.get("MODELSCOPE_DOMAIN")
        or ""
    ).strip()
    if not value:
        return None
    if not value.startswith(("http://", "https://")):
        value = "https://" + value
    return value.rstrip("/")


def _api(endpoint: str | None, token: str | None):
    from modelscope_hub import HubApi

    quiet_library_loggers("modelscope_hub", "modelscope")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # for MODELSCOPE_DOMAIN, deprecated upstream
        return HubApi(endpoint=resolve(endpoint), token=token)


def list_files(
    repo_id: str,
    *,
    revision: str | None = None,
    endpoint: str | None = None,
    token: str | None = None,
) -> tuple[str, list[RemoteFile]]:
    rev = revision or DEFAULT_REVISION
    api = _api(endpoint, token)
    base = api.legacy._endpoint if hasattr(api.legacy, "_endpoint") else endpoint
    try:
        entries = api.list_repo_files(repo_id, "model", revision=rev, recursive=True)
    except Exception as exc:  # noqa: BLE001 - network, HTTP and API errors all mean "this source failed"
        raise OperationError(
            f"cannot list {repo_id} on {base}: {failure_reason(exc)}",
            hint="check the network or try another source (--source hf)",
        ) from exc
    token_value = api.legacy.token if hasattr(api.legacy, "token") else None
    # The legacy file route authenticates by the session cookie, as modelscope's own downloader does.
    headers = {"Cookie": f"m_session_id={token_value}"} if token_value else {}
    files = []
    for e in entries:
        if e.is_dir:
            continue
        path = safe_relpath(e.path)
        files.append(
            RemoteFile(
                path=path,
                size=int(e.size) if e.size is not None else None,
                url=api.legacy.get_download_url(repo_id, "model", path, rev),
                headers=headers,
                sha256=(e.sha256 or None),
            )
        )
    return rev, files
