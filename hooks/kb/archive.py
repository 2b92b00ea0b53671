"""What the sources said at the last build, kept on disk so that a build reads again only what changed.

Reading a source (decoding it, splitting and loading its YAML front matter) and parsing it (title,
date, wikilinks, tags, block ids, excerpt, problems) depends on nothing but the file's path and
bytes, whether it is listed as a draft, and this project's code. At 1,000 notes that work is about
half a second of every build; a note a day changes one file of the thousand. The archive keeps each
:class:`~hooks.kb.sources.Source` by a hash of its path and bytes and each
:class:`~hooks.kb.graph.Parsed` by that hash and the draft flag, in one pickle under the project's
``.kb-cache/`` (about 7 MB at 1,000 notes). The graph itself (names, wikilink resolution, backlinks) is
always built anew: it depends on every page at once. Each demo's spec (hooks.figures.directive) is
kept there too, by the demo's path and bytes, with the bytes of every local module it imports.

The archive is a cache and nothing more: a missing, unreadable, damaged or outdated file (another
version of this project's code, of Python or of PyYAML) is read as empty, and a file that cannot be
written is not written. It is replaced whole (written beside it, then renamed), never deleted, and
holds only what this build read. It is written at most once per session: a build or ``notes check``
writes it when it parsed anything anew; ``mkdocs serve``, after its first build (its later rebuilds
keep their sources in memory and read again only the files saved since).
"""
from __future__ import annotations

import functools
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from hooks.hashing import digest_of

FILE = Path(".kb-cache") / "parsed.pickle"  # under the project's root
KINDS = ("sources", "parsed", "specs")  # what is kept: sources, their parses, demos' specs (hooks.figures.directive)


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of everything a parse depends on besides its input: this package's Python files, the
    Python and PyYAML versions."""
    package = Path(__file__).resolve().parent.parent  # hooks/
    files = (str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0" for path in sorted(package.rglob("*.py")))
    return digest_of(f"{sys.version}|{yaml.__version__}|{pickle.HIGHEST_PROTOCOL}", *files)


def source_digest(src_uri: str, display_path: str, data: bytes) -> str:
    """The key of a source read from ``data``: its path, the path shown in messages, its bytes."""
    return digest_of(src_uri, "\0", display_path, "\0", data)


class Archive:
    """Sources and parses by key, loaded from ``path`` on first use; :meth:`save` keeps what was used."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._loaded: dict[str, dict[Any, Any]] | None = None
        self._used: dict[str, dict[Any, Any]] = {kind: {} for kind in KINDS}
        self.hits = 0  # sources and parses taken from the file since the last save
        self.misses = 0  # made anew since the last save
        self.written = False

    def _entries(self) -> dict[str, dict[Any, Any]]:
        if self._loaded is None:
            self._loaded = {kind: {} for kind in KINDS}
            if self.path is not None:
                try:
                    with open(self.path, "rb") as f:
                        data = pickle.load(f)
                    if isinstance(data, dict) and data.get("version") == code_version():
                        self._loaded = {kind: dict(data[kind]) for kind in KINDS}
                except Exception:  # missing, damaged or written by other code: start empty
                    pass
        return self._loaded

    def get(self, kind: str, key: Any) -> Any:
        """The ``kind`` (one of :data:`KINDS`) stored under ``key``, or None (always, once saved)."""
        if not key or self.written:
            return None
        found = self._entries()[kind].get(key)
        if found is not None:
            self.hits += 1
            self._used[kind][key] = found
        return found

    def put(self, kind: str, key: Any, value: Any) -> None:
        if key and not self.written:
            self.misses += 1
            self._used[kind][key] = value

    def save(self) -> None:
        """Write what this session used, when it made anything anew or left anything out; once."""
        if self.path is None or self.written:
            return
        loaded = self._entries()
        kept = {kind: self._used[kind] or loaded[kind] for kind in KINDS}  # a kind this session never asked for stays
        unchanged = not self.misses and all(kept[k].keys() == loaded[k].keys() for k in KINDS)
        data = {"version": code_version(), **kept}
        self.written = True
        self._loaded, self._used = {kind: {} for kind in KINDS}, {kind: {} for kind in KINDS}  # kept in memory from here on
        if unchanged:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".parsed-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except (OSError, pickle.PicklingError, RecursionError):  # a cache only: the build goes on without it
            return
