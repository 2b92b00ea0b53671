"""Read Markdown sources: decode, split YAML front matter, and keep line numbers of the body."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hooks.problems import Problem


@dataclass
class Source:
    """One Markdown file of docs/: its front matter and its body, with the body's first line number."""

    src_uri: str  # path relative to docs_dir, POSIX separators, e.g. "notes/2024-01-23-dl-study.md"
    display_path: str  # path shown in messages, relative to the project root, e.g. "docs/notes/..."
    text: str = ""  # the whole file, decoded
    meta: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1  # line number (1-based) of the body's first line in the file
    meta_lines: dict[str, int] = field(default_factory=dict)  # front matter key -> line number
    problems: list[Problem] = field(default_factory=list)

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


def parse_source(src_uri: str, data: bytes, display_path: str | None = None) -> Source:
    """Decode ``data`` and split its front matter; problems are recorded on the result, never raised."""
    src = Source(src_uri=src_uri, display_path=display_path or src_uri)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        src.problems.append(
            Problem(src.display_path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); re-save the file as UTF-8")
        )
        return src
    text = text.removeprefix("\ufeff")
    src.text = text
    lines = text.splitlines(keepends=True)
    if lines and lines[0].rstrip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
        if end is None:
            src.problems.append(Problem(src.display_path, 1, "front matter opened with '---' is never closed; add a closing '---' line"))
            return src
        block = "".join(lines[1:end])
        try:
            meta = yaml.load(block, Loader=_FrontMatterLoader) if block.strip() else {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            if mark is not None and mark.index >= len(block.rstrip()):  # ran off the end: point at what was left open
                mark = getattr(exc, "context_mark", None) or mark
            line = (mark.line + 2) if mark is not None else 1
            reason = "; ".join(filter(None, [getattr(exc, "context", None), getattr(exc, "problem", None)])) or "cannot be parsed"
            src.problems.append(Problem(src.display_path, line, f"malformed YAML front matter ({reason}); fix the YAML between the '---' lines"))
            return src
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            src.problems.append(Problem(src.display_path, 2, "front matter must be a mapping of 'key: value' lines"))
            return src
        src.meta = meta
        src.meta_lines = _key_lines(block, 2)
        src.body = "".join(lines[end + 1 :])
        src.body_line = end + 2
    else:
        src.body = text
    return src


def iter_markdown(docs_dir: str | os.PathLike[str]) -> list[Path]:
    """Every ``.md`` file under ``docs_dir`` (sorted), skipping hidden files and folders."""
    root = Path(docs_dir)
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in sorted(filenames):
            if name.endswith(".md") and not name.startswith((".", "_")):
                found.append(Path(dirpath) / name)
    return found


def read_sources(docs_dir: str | os.PathLike[str], project_root: str | os.PathLike[str] | None = None) -> list[Source]:
    """Read and split every Markdown file of ``docs_dir``; messages name paths relative to the project."""
    root = Path(docs_dir)
    base = Path(project_root) if project_root else root.parent
    out = []
    for path in iter_markdown(root):
        src_uri = path.relative_to(root).as_posix()
        try:
            display = path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            display = path.as_posix()
        out.append(parse_source(src_uri, path.read_bytes(), display))
    return out
