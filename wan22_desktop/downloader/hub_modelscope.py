"""ModelScope: listing (with sha256 and size) and file URLs via the ``modelscope`` hub API.

The endpoint is ``endpoint`` if given, else ``MODELSCOPE_DOMAIN``, else modelscope's default; a bare
host gets ``https://`` (modelscope's own rule), a full ``http://`` URL is kept as it is.
"""

from __future__ import annotations

import os

from wan22_desktop.downloader.remote import RemoteFile, safe_relpath
from wan22_desktop.errors import OperationError

DEFAULT_REVISION = "master"


def resolve(endpoint: str | None) -> str:
    from modelscope.hub.utils.utils import resolve_endpoint

    return resolve_endpoint(endpoint or os.environ.get("MODELSCOPE_DOMAIN") or None)


def list_files(repo_id: str, *, revision: str | None = None, endpoint: str | None = None,
               token: str | None = None) -> tuple[str, list[RemoteFile]]:
    from modelscope.hub.api import HubApi
    from modelscope.hub.file_download import get_file_download_url

    base = resolve(endpoint)
    rev = revision or DEFAULT_REVISION
    api = HubApi(endpoint=base, token=token)
    try:
        entries = api.list_repo_files(repo_id, "model", revision=rev, recursive=True)
    except Exception as exc:  # noqa: BLE001 - modelscope raises many unrelated types for one cause
        raise OperationError(f"cannot list {repo_id} on {base}: {exc}",
                             hint="check the network or try another source (--source hf)") from exc
    headers = {"User-Agent": "wan22-desktop"}
    files = []
    for e in entries:
        if getattr(e, "type", "blob") == "tree":
            continue
        path = safe_relpath(e.path)
        files.append(RemoteFile(
            path=path,
            size=int(e.size) if e.size is not None else None,
            url=get_file_download_url(repo_id, path, rev, endpoint=base),
            headers=dict(headers),
            sha256=(e.sha256 or None),
        ))
    return rev, files
