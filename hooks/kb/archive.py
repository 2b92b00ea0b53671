"""What the sources said at the last build, kept on disk so that a build reads again only what changed.

Reading a source (decoding it, splitting and loading its YAML front matter) and parsing it (title,
date, wikilinks, tags, block ids, excerpt, problems) depends on nothing but the file's path and
bytes, whether it is listed as a draft, and this project's code. At 1,000 notes that work is about
half a second of every build; a note a day changes one file of the thousand. The archive keeps each
:class:`~hooks.kb.sources.Source` by a hash of its path and bytes and each
:class:`~hooks.kb.graph.Parsed` by that hash and the draft flag, in one JSON file under the project's
``.kb-cache/`` (about 5 MB at 1,000 notes). The graph itself (names, wikilink resolution, backlinks) is
always built anew: it depends on every page at once. Each demo's spec (hooks.figures.directive) is
kept there too, by the demo's path and bytes, with the bytes of every local module it imports.

The file is data, never code: the publish workflow restores ``.kb-cache/`` from a shared cache, so
whoever can write that cache must not be able to run anything in the build (a pickle runs what it
names as it is loaded). Each stored type is written as plain JSON (mostly compact lists) by the
module that owns it (``encode``) and read back by the same module (``decode``), which checks its
shape; the front matter's YAML values go through :func:`encode_value`/:func:`decode_value`. The file
is one line of JSON and, after it, the long texts (the notes themselves) as plain UTF-8, which the
JSON refers to by position: JSON would escape every line break of them and read them back slowly.

The archive is a cache and nothing more: a missing, unreadable, damaged, outdated (another version of
this project's code, of Python or of PyYAML) or unknown-shaped file is read as empty, and one entry
that cannot be decoded is read as missing (each said in one debug line); a file that cannot be
written is not written. It is replaced whole (written beside it, then renamed), never deleted, and
holds only what this build read. It is written at most once per session: a build or ``notes check``
writes it when it parsed anything anew; ``mkdocs serve``, after its first build (its later rebuilds
keep their sources in memory and read again only the files saved since).
"""
from __future__ import annotations

import base64
import contextlib
import datetime
import functools
import gc
import json
import logging
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from hooks.hashing import digest_of
from hooks.problems import Problem

FILE = Path(".kb-cache") / "parsed.json"  # under the project's root
FORMAT = "kb-archive/2"  # the layout of the file; a change of layout is a change of this name
LONG_TEXT = 256  # a text at least this long in an entry's list is kept after the JSON, as plain UTF-8
KINDS = ("sources", "parsed", "specs")  # what is kept: sources, their parses, demos' specs (hooks.figures.directive)
log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of everything a parse depends on besides its input: this package's Python files, the
    Python and PyYAML versions."""
    package = Path(__file__).resolve().parent.parent  # hooks/
    files = (str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0" for path in sorted(package.rglob("*.py")))
    return digest_of(f"{sys.version}|{yaml.__version__}|{FORMAT}", *files)


def source_digest(src_uri: str, display_path: str, data: bytes) -> str:
    """The key of a source read from ``data``: its path, the path shown in messages, its bytes."""
    return digest_of(src_uri, "\0", display_path, "\0", data)


# --- values: what YAML's safe loader makes, as JSON ---------------------------------------------------

def encode_value(value: Any) -> Any:
    """``value`` (anything YAML's safe loader makes) as JSON: lists, text, numbers, true, false and null
    stand for themselves; anything else is an object of one tagged member. TypeError for other types."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"f": repr(value)}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        return {"m": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    if isinstance(value, datetime.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    if isinstance(value, tuple):
        return {"t": [encode_value(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"s": [encode_value(v) for v in value]}
    if isinstance(value, bytes):
        return {"b": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"cannot archive a {type(value).__name__}")


def _hashable(value: Any) -> Any:
    if type(value) is not str and isinstance(value, (list, dict, set)):
        raise ValueError("a mapping key or set member that cannot be one")
    return value


_TAGGED: dict[str, Callable[[Any], Any]] = {
    "f": lambda v: float(v) if v in ("inf", "-inf", "nan") else _fail("a float"),
    "m": lambda v: {_hashable(decode_value(k)): decode_value(x) for k, x in v},
    "dt": lambda v: datetime.datetime.fromisoformat(v),
    "d": lambda v: datetime.date.fromisoformat(v),
    "t": lambda v: tuple(decode_value(x) for x in v),
    "s": lambda v: {_hashable(decode_value(x)) for x in v},
    "b": lambda v: base64.b64decode(v, validate=True),
}


def _fail(what: str) -> Any:
    raise ValueError(f"not {what}")


def decode_value(data: Any) -> Any:
    """The value :func:`encode_value` wrote; ValueError (or TypeError, KeyError) for anything else."""
    kind = type(data)
    if kind is str or kind is int or kind is bool or kind is float or data is None:
        return data
    if kind is list:
        return data if all(type(v) is str for v in data) else [decode_value(v) for v in data]  # a list of text: as it is
    if kind is dict and len(data) == 1:
        (tag, inner), = data.items()
        if tag == "m":
            return {_hashable(decode_value(k)): decode_value(v) for k, v in inner}
        return _TAGGED[tag](inner)
    raise ValueError(f"unknown value {kind.__name__}")


def encode_mapping(value: dict) -> Any:
    """A mapping (front matter) as JSON: an object when every key is text, else as :func:`encode_value` writes it."""
    if all(type(k) is str for k in value):
        return {"j": {k: encode_value(v) for k, v in value.items()}}
    return encode_value(value)


def decode_mapping(data: Any) -> dict:
    """The mapping :func:`encode_mapping` wrote."""
    inner = data.get("j") if type(data) is dict and len(data) == 1 else None
    value = {k: decode_value(v) for k, v in inner.items()} if type(inner) is dict else decode_value(data)
    if type(value) is not dict:
        raise ValueError("not a mapping")
    return value


def encode_problems(problems: list[Problem]) -> list[list]:
    return [[p.path, p.line, p.message, p.severity] for p in problems]


def decode_problems(data: Any) -> list[Problem]:
    out = []
    for path, line, message, severity in data:
        if not (isinstance(path, str) and isinstance(line, int) and isinstance(message, str) and severity in ("error", "warning")):
            raise ValueError("not a problem")
        out.append(Problem(path, line, message, severity))
    return out


def text(value: Any) -> str:
    """``value`` when it is text; ValueError otherwise (for the decoders of the stored types)."""
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    return value


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many objects are made at once (every source and parse of
    a site read back from the archive): otherwise it walks the whole heap again and again as they are
    made, which at 1,000 notes costs more than the reading itself. What is made here is kept; the few
    cycles a parse may leave meanwhile are collected by the first pass after it."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


# --- the file ---------------------------------------------------------------------------------------

def _out_of_line(value: Any, texts: list[str], at: list[int]) -> Any:
    """``value`` with each long text among its items replaced by ``{"@": [start, length]}``, the text
    appended to ``texts`` (``at``: the characters in ``texts`` so far)."""
    if type(value) is not list:
        return value
    out = []
    for item in value:
        if type(item) is str and len(item) >= LONG_TEXT:
            texts.append(item)
            out.append({"@": [at[0], len(item)]})
            at[0] += len(item)
        else:
            out.append(item)
    return out


def _in_line(value: Any, texts: str) -> Any:
    """``value`` with the texts :func:`_out_of_line` took out put back; ValueError for a reference that
    is not one."""
    if type(value) is not list:
        return value
    out = []
    for item in value:
        if type(item) is dict and len(item) == 1 and "@" in item:
            start, length = item["@"]
            if not (type(start) is int and type(length) is int and 0 <= start and 0 <= length and start + length <= len(texts)):
                raise ValueError("a text reference outside the texts")
            item = texts[start:start + length]
        out.append(item)
    return out


def _key(data: Any) -> Any:
    """A stored key as the callers make it: text, or a tuple of texts and flags."""
    if type(data) is list and all(type(part) in (str, bool) for part in data):
        return tuple(data)
    if type(data) is str:
        return data
    raise ValueError("a key that is neither text nor a list of texts and flags")


class Archive:
    """Stored values by kind and key, loaded from ``path`` on first use; :meth:`save` keeps what was used.

    Values are kept as JSON: :meth:`put` takes a value with the function that encodes it, :meth:`get`
    a decoder, so that the archive itself knows nothing of the types it stores."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._loaded: dict[str, dict[Any, Any]] | None = None
        self._used: dict[str, dict[Any, Any]] = {kind: {} for kind in KINDS}
        self.hits = 0  # sources and parses taken from the file since the last save
        self.misses = 0  # made anew since the last save
        self.written = False
        self._texts = ""  # the long texts of the file read, which its entries refer to

    def _entries(self) -> dict[str, dict[Any, Any]]:
        if self._loaded is None:
            self._loaded = {kind: {} for kind in KINDS}
            if self.path is not None:
                self._loaded = self._read(self.path) or self._loaded
        return self._loaded

    def _read(self, path: Path) -> dict[str, dict[Any, Any]] | None:
        """The file's entries (JSON on its first line, then the long texts its entries refer to, as UTF-8)."""
        try:
            with open(path, "rb") as f:
                raw = f.read()
            end = raw.index(b"\n") if b"\n" in raw else len(raw)
            with collector_paused():  # json makes some 100,000 lists at once
                data = json.loads(raw[:end])
            texts = raw[end + 1:].decode("utf-8", "surrogatepass")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as exc:  # unreadable, not JSON (an older pickle): start empty
            log.debug("%s: not read (%s); it will be replaced", path, exc)
            return None
        try:
            if data.get("format") != FORMAT or data.get("version") != code_version():
                log.debug("%s: written by other code; it will be replaced", path)
                return None
            if data.get("texts") != len(texts):
                raise ValueError("texts cut short or grown")
            self._texts = texts
            entries = {kind: data[kind] for kind in KINDS}
            if not all(type(pairs) is list and all(type(pair) is list and len(pair) == 2 for pair in pairs) for pairs in entries.values()):
                raise ValueError("entries that are not [key, value] pairs")
            return {kind: {_key(key): value for key, value in pairs} for kind, pairs in entries.items()}
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            log.debug("%s: not an archive of this shape (%s); it will be replaced", path, exc)
            return None

    def get(self, kind: str, key: Any, decode: Callable[[Any], Any]) -> Any:
        """The ``kind`` (one of :data:`KINDS`) stored under ``key`` as ``decode`` reads it back, or None
        (when absent, when it cannot be decoded, and always once saved)."""
        if not key or self.written:
            return None
        found = self._entries()[kind].get(key)
        if found is None:
            return None
        try:
            found = _in_line(found, self._texts)
            value = decode(found)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            log.debug("%s: an entry of %s cannot be read (%s); it is made anew", self.path, kind, exc)
            return None
        self.hits += 1
        self._used[kind][key] = found
        return value

    def put(self, kind: str, key: Any, value: Any, encode: Callable[[Any], Any]) -> None:
        """Keep ``value`` under ``key`` as ``encode`` writes it; a value that cannot be encoded is not kept."""
        if key and not self.written:
            self.misses += 1
            try:
                self._used[kind][key] = encode(value)
            except (TypeError, ValueError, RecursionError) as exc:
                log.debug("%s: an entry of %s cannot be archived (%s)", self.path, kind, exc)

    def save(self) -> None:
        """Write what this session used, when it made anything anew or left anything out; once."""
        if self.path is None or self.written:
            return
        loaded = self._entries()
        kept = {kind: self._used[kind] or loaded[kind] for kind in KINDS}  # a kind this session never asked for stays
        unchanged = not self.misses and all(kept[k].keys() == loaded[k].keys() for k in KINDS)
        old_texts, self._texts = self._texts, ""
        self.written = True
        self._loaded, self._used = {kind: {} for kind in KINDS}, {kind: {} for kind in KINDS}  # kept in memory from here on
        if unchanged:
            return
        texts: list[str] = []
        at = [0]
        try:
            entries = {kind: [[list(k) if isinstance(k, tuple) else k, _out_of_line(_in_line(v, old_texts), texts, at)]
                              for k, v in kept[kind].items()] for kind in KINDS}
            data = json.dumps({"format": FORMAT, "version": code_version(), "texts": at[0], **entries},
                              separators=(",", ":"), allow_nan=False).encode("ascii")
            data += b"\n" + "".join(texts).encode("utf-8", "surrogatepass")
        except (TypeError, ValueError, RecursionError) as exc:
            log.debug("%s: not written (%s)", self.path, exc)
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".parsed-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:  # a cache only: the build goes on without it
            return
