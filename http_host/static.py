"""`http.static`: files of a folder under a URL path (GET and HEAD).

A path that leaves the folder (`..`, symlinks pointing out) is a 404, like a missing file.
A folder answers with its index file; with `spa: true` an unknown path answers the root
index file (single-page apps route in the browser). `cache` sets Cache-Control.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote

import anyio

from http_host.config import StaticConfig
from http_host.exchange import Send, send_simple

CHUNK = 64 * 1024


def resolve(mount: StaticConfig, path: str) -> Path | None:
    """The file `path` names under the mount, or None."""
    relative = unquote(path[len(mount.path) :] if mount.path != "/" else path).lstrip("/")
    root = mount.directory
    candidate = (root / relative).resolve()
    if candidate != root and root not in candidate.parents:
        return None
    if candidate.is_dir():
        candidate = candidate / mount.index
    if candidate.is_file():
        return candidate
    if mount.spa:
        index = root / mount.index
        return index if index.is_file() else None
    return None


async def serve(
    mount: StaticConfig, path: str, send: Send, extra: list[tuple[bytes, bytes]]
) -> None:
    file = resolve(mount, path)
    if file is None:
        await send_simple(send, 404, b'{"error": "not found"}', headers=extra)
        return
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(file.stat().st_size).encode()),
        *extra,
    ]
    if mount.cache:
        headers.append((b"cache-control", mount.cache.encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    async with await anyio.open_file(file, "rb") as handle:
        while True:
            chunk = await handle.read(CHUNK)
            more = len(chunk) == CHUNK
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
            if not more:
                break
