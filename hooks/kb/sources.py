"""Read Markdown sources once: the files the generator lists, read safely, front matter split, comments removed.

The list of files comes from the generator (MkDocs' own ``Files``, so ``exclude_docs``, ``draft_docs``
and ``not_in_nav`` mean the same everywhere); this module never walks ``docs/`` itself. A
:class:`SourceStore` keeps what it read between builds and reads again only the files whose
size, time stamp or identity changed, which is what makes a rebuild under ``mkdocs serve`` cheap.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal

import yaml

from hooks.kb import archive as stored
from hooks.kb.archive import Archive, source_digest
from hooks.markdown import strip_comments
from hooks.problems import Problem

Status = Literal["included", "not_in_nav", "draft", "excluded"]
MAX_SOURCE_BYTES = 8 * 1024 * 1024  # a note larger than this is a mistake (a pasted data file), not prose
MAX_META_DEPTH = 32  # front matter nested deeper than this is a mistake (and recursion for whoever prints it)
MAX_META_VALUES = 100_000  # values front matter stands for once its YAML aliases are expanded


@dataclass(frozen=True)
class SourceFile:
    """One file as the generator lists it."""

    src_uri: str  # path relative to docs_dir, POSIX separators, e.g. "notes/2024-01-23-dl-study.md"
    abs_path: str
    display_path: str  # path shown in messages, relative to the project root, e.g. "docs/notes/..."
    status: Status = "included"  # MkDocs' inclusion level: drafts (draft_docs) and excluded files are not published

    @property
    def published(self) -> bool:
        return self.status in ("included", "not_in_nav")


@dataclass
class Source:
    """One Markdown file: its front matter and its body (private ``%%comments%%`` removed)."""

    src_uri: str
    display_path: str
    text: str = ""  # the whole file, decoded, as written
    meta: dict[str, Any] = field(default_factory=dict)
    front: str = ""  # the front matter block as written, with its '---' lines (empty when there is none); written anew without comments when its texts held any
    body: str = ""  # what follows the front matter, without comments; lines keep their numbers
    body_line: int = 1  # line number (1-based) of the body's first line in the file
    meta_lines: dict[str, int] = field(default_factory=dict)  # front matter key -> line number
    problems: list[Problem] = field(default_factory=list)
    digest: str = ""  # hash of the path and bytes it was read from (hooks.kb.archive), empty when not read from a file

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


class _FrontMatterLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: ten times faster
    """YAML's safe loader, except that an impossible date (2024-02-30) stays text to be reported, not raised."""


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _key_lines(block: str, first_line: int) -> dict[str, int]:
    lines = {}
    for i, raw in enumerate(block.splitlines()):
        if raw and not raw[0].isspace() and ":" in raw and not raw.startswith("#"):
            lines.setdefault(raw.split(":", 1)[0].strip().strip("'\""), first_line + i)
    return lines


def _yaml_problem(exc: yaml.YAMLError, block: str) -> tuple[int, str]:
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context", None) or ""
    opened = context.startswith(("while parsing a flow", "while scanning a quoted", "while scanning a block scalar"))
    if mark is not None and (opened or mark.index >= len(block.rstrip())):  # point at what was left open
        mark = getattr(exc, "context_mark", None) or mark
    line = (mark.line + 2) if mark is not None else 1
    reason = "; ".join(filter(None, [getattr(exc, "context", None), getattr(exc, "problem", None)])) or "cannot be parsed"
    return line, f"malformed YAML front matter ({reason}); fix the YAML between the '---' lines"


def _unwieldy(value: Any) -> str | None:
    """Why a front matter value cannot be handed on (too deep, refers to itself, expands too far), or None.

    Walks without recursion and visits each list or mapping once, so a YAML bomb costs nothing here;
    depth and size are those of the value with its YAML aliases expanded.
    """
    sizes: dict[int, tuple[int, int]] = {}  # id of a finished container -> (values it stands for, levels)
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        node, done = stack.pop()
        if not isinstance(node, (list, dict)):
            continue
        children = list(node.values() if isinstance(node, dict) else node)
        if done:
            on_path.discard(id(node))
            inner = [sizes.get(id(c), (1, 0)) for c in children]
            size, levels = 1 + sum(n for n, _ in inner), 1 + max((d for _, d in inner), default=0)
            if levels > MAX_META_DEPTH:
                return f"is nested too deeply (more than {MAX_META_DEPTH} levels)"
            if size > MAX_META_VALUES:
                return f"expands to more than {MAX_META_VALUES:,} values (YAML aliases)"
            sizes[id(node)] = (size, levels)
            continue
        if id(node) in on_path:
            return "refers to itself (a YAML alias inside its own anchor)"
        if id(node) in sizes:
            continue
        on_path.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in children)
    return None


def _without_comments(value: Any) -> Any:
    """Front matter with Obsidian's ``%%private comments%%`` removed from every text in it (not from keys)."""
    if isinstance(value, str):
        return strip_comments(value) if "%%" in value else value
    if isinstance(value, list):
        return [_without_comments(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_comments(v) for k, v in value.items()}
    return value


def split_front_matter(text: str) -> tuple[str, str]:
    """``(front matter block with its '---' lines, the rest of the text)``; ``("", text)`` when ``text``
    does not open with a closed block. The block opens with a '---' line and closes with the next '---'
    or '...' line (trailing spaces allowed); the rest keeps its lines, so line numbers can be counted on.
    The one front-matter splitter: sources are read with it and ``notes export`` splits pages with it."""
    if not text.startswith("---"):
        return "", text
    lines = text.splitlines(keepends=True)
    if lines[0].rstrip() != "---":
        return "", text
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        return "", text
    front = "".join(lines[: end + 1])
    return front, text[len(front):]


def parse_source(src_uri: str, data: bytes, display_path: str | None = None) -> Source:
    """Decode ``data`` and split its front matter; problems are recorded on the result, never raised."""
    src = Source(src_uri=src_uri, display_path=display_path or src_uri)

    def problem(line: int, message: str) -> Source:
        src.problems.append(Problem(src.display_path, line, message))
        return src

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return problem(line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); re-save the file as UTF-8")
    if "\x00" in text:
        return problem(text[: text.index("\x00")].count("\n") + 1, "holds a NUL byte, so it is not a text file; re-save it as UTF-8 text")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    src.text = text
    front, rest = split_front_matter(text)
    if front:
        front_lines = front.splitlines(keepends=True)
        block = "".join(front_lines[1:-1])
        src.front = front
        src.body = strip_comments(rest)  # shown under the problem while it is fixed
        src.body_line = len(front_lines) + 1
        try:
            meta = yaml.load(block, Loader=_FrontMatterLoader) if block.strip() else {}
        except yaml.YAMLError as exc:
            return problem(*_yaml_problem(exc, block))
        except RecursionError:
            return problem(2, "front matter is nested too deeply to read; flatten the YAML between the '---' lines")
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            return problem(2, "front matter must be a mapping of 'key: value' lines")
        src.meta_lines = _key_lines(block, 2)
        for key, value in meta.items():
            why = _unwieldy(value)
            if why:
                return problem(src.meta_lines.get(str(key), 2), f"'{key}' in front matter {why}; flatten the YAML between the '---' lines")
        cleaned = _without_comments(meta)
        if cleaned != meta:  # the generator reads the block again (the theme prints title and description): hand it on without them
            src.front = "---\n" + yaml.safe_dump(cleaned, sort_keys=False, allow_unicode=True, width=1 << 30) + "---\n"
        src.meta = cleaned
    elif text.startswith("---") and text.splitlines()[0].rstrip() == "---":
        return problem(1, "front matter opened with '---' is never closed; add a closing '---' line")
    else:
        src.body = strip_comments(text)
    return src


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def check_file(file: SourceFile, project_root: str | os.PathLike[str], real_dirs: dict[str, str] | None = None,
               stats: dict[str, os.stat_result] | None = None) -> Problem | None:
    """Why a listed file must not be read or published, or None: a link leaving the project, a
    dangling link, something that is not a regular file (a FIFO would hang the build).

    ``real_dirs`` (a folder -> its real path, shared by the calls of one build) saves resolving the
    same folders again for every file in them; ``stats`` receives the ``os.stat`` of each file accepted
    (by its absolute path), which :meth:`SourceStore.load` then need not ask the OS for again."""
    path = file.abs_path
    try:
        lst = os.lstat(path)
    except OSError as exc:
        return Problem(file.display_path, 0, f"cannot be read ({exc.strerror}); check the file")
    real_dirs = {} if real_dirs is None else real_dirs

    def realpath(p: str | os.PathLike[str]) -> str:
        key = os.fspath(p)
        if key not in real_dirs:
            real_dirs[key] = os.path.realpath(key)
        return real_dirs[key]

    root = realpath(project_root)
    if stat.S_ISLNK(lst.st_mode):
        real = os.path.realpath(path)
        if not os.path.exists(real):
            return Problem(file.display_path, 0, f"is a symbolic link to {os.readlink(path)}, which does not exist; remove the link or restore its target")
        if not _inside(real, root):
            return Problem(file.display_path, 0, f"is a symbolic link that leaves the project (to {real}); it is not published: copy the file into docs/ or remove the link")
    else:  # not a link itself: its real path is its folder's, and the folders are shared
        folder, name = os.path.split(path)
        real = os.path.join(realpath(folder), name)
    if not _inside(real, root):  # under a linked folder that points outside
        return Problem(file.display_path, 0, f"lies in a folder linked from outside the project ({real}); it is not published: copy it into docs/")
    try:
        st = os.stat(path) if stat.S_ISLNK(lst.st_mode) else lst
    except OSError as exc:
        return Problem(file.display_path, 0, f"cannot be read ({exc.strerror}); check the file")
    if not stat.S_ISREG(st.st_mode):
        return Problem(file.display_path, 0, "is not a regular file (a pipe, socket or device); remove it from docs/")
    if stats is not None:
        stats[path] = st
    return None


def read_source(file: SourceFile, archive: Archive | None = None) -> Source:
    """Read and split one listed Markdown file (which :func:`check_file` accepted); every problem is
    recorded on the result. ``archive``: what earlier builds read, by path and bytes."""
    data = _read_bytes(file)
    if isinstance(data, Source):
        return data
    digest = source_digest(file.src_uri, file.display_path, data)
    source = archive.get("sources", digest, decode_source) if archive is not None else None
    if source is None or source.digest != digest:
        source = parse_source(file.src_uri, data, file.display_path)
        source.digest = digest
        if archive is not None:
            archive.put("sources", digest, source, encode_source)
    return source


def encode_source(source: Source) -> list:
    """``source`` as JSON for the archive (hooks.kb.archive): a list, its body left out when it is the
    text after the front matter as written (a note without comments), its front matter by its length when
    the text starts with it."""
    body = None if source.body == source.text[len(source.front):] else source.body
    front = len(source.front) if source.text.startswith(source.front) else source.front  # most often the text's start
    return [source.src_uri, source.display_path, source.text, stored.encode_mapping(source.meta), front, body,
            source.body_line, source.meta_lines, stored.encode_problems(source.problems), source.digest]


def decode_source(data: Any) -> Source:
    """The source :func:`encode_source` wrote; ValueError (or TypeError, ...) for anything else."""
    src_uri, display_path, text, meta, front, body, body_line, meta_lines, problems, digest = data
    meta = stored.decode_mapping(meta)
    if type(front) is int and type(text) is str:
        front = text[:front]
    if not (type(meta_lines) is dict and type(src_uri) is str and type(display_path) is str and type(text) is str
            and type(front) is str and (body is None or type(body) is str) and type(body_line) is int and type(digest) is str
            and all(type(k) is str and type(v) is int for k, v in meta_lines.items())):
        raise ValueError("not a source")
    return Source(src_uri, display_path, text, meta, front, text[len(front):] if body is None else body, body_line,
                  meta_lines, stored.decode_problems(problems) if problems else [], digest)


def _read_bytes(file: SourceFile) -> bytes | Source:
    """The file's bytes, or a source that says why they cannot be read."""
    try:
        st = os.stat(file.abs_path)
        size = st.st_size
        if not stat.S_ISREG(st.st_mode):
            return Source(file.src_uri, file.display_path, problems=[Problem(
                file.display_path, 0, "is not a regular file (a pipe, socket or device); remove it from docs/")])
        if size > MAX_SOURCE_BYTES:
            return Source(file.src_uri, file.display_path, problems=[Problem(
                file.display_path, 0, f"is {size // 1024 // 1024} MiB, too large for a page; split it or move the data out of docs/")])
        return Path(file.abs_path).read_bytes()
    except OSError as exc:
        return Source(file.src_uri, file.display_path, problems=[Problem(file.display_path, 0, f"cannot be read ({exc.strerror}); check the file")])


def _stamp(path: str, stats: dict[str, os.stat_result] | None = None) -> tuple[int, int, int, int] | None:
    st = stats.get(path) if stats is not None else None
    if st is None:
        try:
            st = os.stat(path)
        except OSError:
            return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode)


class SourceStore:
    """Sources by src_uri, kept between builds; a file is read again only when its stat changed.

    The same :class:`Source` object is returned while a file is unchanged, so whatever is derived
    from a source can be cached on its identity.
    """

    def __init__(self, archive: Archive | None = None) -> None:
        self._entries: dict[str, tuple[SourceFile, tuple | None, Source]] = {}
        self.reads = 0  # files read by the last call of load()
        self.archive = archive  # what earlier builds read (hooks.kb.archive)

    def load(self, files: Iterable[SourceFile], stats: dict[str, os.stat_result] | None = None) -> list[Source]:
        """Sources of the Markdown files among ``files`` that are not excluded, sorted by src_uri;
        ``stats``: the files' ``os.stat`` as :func:`check_file` found them (else asked for here)."""
        self.reads = 0
        out, seen = [], set()
        with stored.collector_paused():  # every source read back from the archive at once
            self._load(files, out, seen, stats)
        for gone in self._entries.keys() - seen:
            del self._entries[gone]
        return sorted(out, key=lambda s: s.src_uri)

    def _load(self, files: Iterable[SourceFile], out: list[Source], seen: set[str], stats: dict[str, os.stat_result] | None) -> None:
        for file in files:
            if file.status == "excluded" or not file.src_uri.endswith(".md"):
                continue
            seen.add(file.src_uri)
            stamp = _stamp(file.abs_path, stats)
            known = self._entries.get(file.src_uri)
            if known is not None and known[0] == file and known[1] == stamp and stamp is not None:
                out.append(known[2])
                continue
            source = read_source(file, self.archive)
            self.reads += 1
            self._entries[file.src_uri] = (file, stamp, source)
            out.append(source)
