"""The one place the build hashes: checksums of cache files, cache keys, archive keys and figure ids.

Everything is SHA-256 in lowercase hex, except figure ids, which keep the SHA-1 prefix they were
published with (readers link to ``#kb-fig-...`` anchors). Cache keys and checksums are persisted and
shared through the remote cache: a change of scheme here is a change of every key.
"""
from __future__ import annotations

import hashlib
import os

_CHUNK = 1 << 16


def digest_of(*parts: bytes | str, length: int | None = None, algorithm: str = "sha256") -> str:
    """Hex digest of ``parts`` hashed in order as one stream (text as UTF-8), cut to ``length`` characters.

    The parts are not framed: ``digest_of("ab", "c") == digest_of("a", "bc")``, as with
    ``hashlib``'s ``update``. Put a separator between parts that could run together.
    """
    h = hashlib.new(algorithm)
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
    return h.hexdigest()[:length] if length else h.hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks (a figure or data.json may be large); equals ``digest_of(bytes)``."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
