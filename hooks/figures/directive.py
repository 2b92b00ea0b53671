"""The one-line figure directive ``!demo[Caption](demo/figure?key=value)``: find, validate, describe.

A directive stands alone on its line, on a text line as the scanner of hooks.markdown sees it (not
in code). Each line is parsed on its own: the target is what follows the last ``](`` up to the
closing ``)``, so a caption may hold brackets and wikilinks (shown as written). A line that starts
like a directive but cannot be read is a problem, never silently ignored.

One parameter may be swept over a few values, ``?sigma=0.25|0.5|1.0``: the figure becomes explorable
(a slider picks the value) and each value is a run of its own, planned and cached like any other.
A text value that holds a pipe writes it ``\\|``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import parse_qsl

from hooks.kb.archive import Archive, decode_value, encode_value
from hooks.figures.spec import DemoError, DemoSpec, FieldSpec, load_spec, params_id, resolve_params
from hooks.hashing import sha256_file
from hooks.markdown import DIRECTIVE_RE, Scan, scan
from hooks.problems import Problem

PREFIX = "!demo["
SWEEP_SEPARATOR = "|"
_SWEEP_SPLIT = re.compile(r"(?<!\\)\|")  # a pipe not escaped as \|
MAX_SWEEP_VALUES = 12  # each value is a run of the demo, made by every build that lacks it


@dataclass(frozen=True)
class Variant:
    """One value of a swept parameter: the run that draws the figure for it."""

    value: Any  # typed, as the demo's Config has it
    label: str  # as the page wrote it
    overrides: dict[str, Any]
    params: dict[str, Any]
    params_id: str


@dataclass
class FigureRef:
    """One directive in one page."""

    src_uri: str  # the page, relative to docs/
    display_path: str  # the page, relative to the project (for messages)
    line: int
    caption: str
    demo: str
    figure: str
    overrides: dict[str, Any] = field(default_factory=dict)  # typed, only those differing from defaults
    params: dict[str, Any] = field(default_factory=dict)  # every Config field
    params_id: str = "default"
    raw: str = ""  # the directive's line, stripped: how a page finds its figure again
    sweep: str | None = None  # the parameter a slider sweeps, if any
    variants: list[Variant] = field(default_factory=list)  # one per swept value, in the page's order (the first is the above)

    @property
    def where(self) -> str:
        return f"{self.display_path}:{self.line}"

    @property
    def runs(self) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
        """``(params, overrides, params_id)`` of every run this figure shows: one, or one per swept value."""
        if self.variants:
            return [(v.params, v.overrides, v.params_id) for v in self.variants]
        return [(self.params, self.overrides, self.params_id)]


def split_directive(line: str) -> tuple[str, str]:
    """``!demo[caption](target)`` -> (caption, target); raise DemoError when the line is malformed."""
    text = line.strip()
    if not text.startswith(PREFIX) or not text.endswith(")") or "](" not in text:
        raise DemoError("a figure directive is one line '!demo[Caption](demo/figure?key=value)'; this one is malformed")
    inner = text[len(PREFIX) : -1]
    cut = inner.rfind("](")
    caption, target = inner[:cut], inner[cut + 2 :]
    if not target.strip() or any(ch.isspace() or ch in "()" for ch in target.strip()):
        raise DemoError(f"'{target}' is not DEMO/FIGURE[?key=value&...] (no spaces or parentheses); write for example 'double_descent/linear'")
    return caption.strip(), target.strip()


def directive_lines(markdown: str, result: Scan | None = None) -> Iterator[tuple[int, str]]:
    """``(0-based line index, line)`` of every line that starts a figure directive, outside code.
    ``result``: the scan of ``markdown`` already made (it is scanned here only without one)."""
    if PREFIX not in markdown:
        return
    result = result or scan(markdown)
    for index in result.text_lines():
        line = result.lines[index]
        m = DIRECTIVE_RE.match(line)
        if m and m.group("name") == "demo":
            yield index, line


def blocks_above(result: Scan, index: int) -> list[list[int]]:
    """The blocks of text a figure directive at line ``index`` stands under, nearest first, each as its
    line indices: back over blank lines and the figures right above it, then block by block (blocks
    part at blank lines) up to the figure before it, the section's heading (its own block) or the start."""
    directive = lambda i: result.kinds[i] == "text" and DIRECTIVE_RE.match(result.lines[i]) is not None  # noqa: E731
    i = index - 1
    while i >= 0 and (result.kinds[i] == "blank" or directive(i)):
        i -= 1
    headings = result.heading_lines()
    blocks: list[list[int]] = []
    block: list[int] = []
    while i >= 0 and not directive(i):
        if result.kinds[i] == "blank" or i in headings:
            if block:
                blocks.append(block)
                block = []
            if i in headings:
                blocks.append([i])
                break
        else:
            block.append(i)
        i -= 1
    if block:
        blocks.append(block)
    return blocks


def parse_target(target: str) -> tuple[str, str, dict[str, str]]:
    """``demo/figure?k=v`` -> (demo, figure, {k: v}); raise DemoError when malformed."""
    path, _, query = target.strip().partition("?")
    parts = path.split("/")
    if len(parts) != 2 or not all(parts):
        raise DemoError(f"'{target}' is not DEMO/FIGURE[?key=value&...]; write for example 'double_descent/linear'")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise DemoError(f"the parameters '{query}' are not key=value pairs joined with '&'") from None
    overrides: dict[str, str] = {}
    for key, value in pairs:
        if key in overrides:
            raise DemoError(f"parameter '{key}' is given twice")
        overrides[key] = value
    return parts[0], parts[1], overrides


def _stamps(paths: Iterable[Path]) -> tuple:
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(path), None, None))
    return tuple(out)


def _file_digest(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def _encode_spec(kept: tuple[DemoSpec, dict[str, str]]) -> list:
    """A spec and the digests of the files it was read from, as JSON for the archive (hooks.kb.archive)."""
    spec, digests = kept
    return [spec.name, str(spec.path), [[f.name, f.type, encode_value(f.default), f.comment] for f in spec.fields.values()],
            spec.figures, spec.timeout_s, spec.doc, [str(p) for p in spec.local_modules], spec.device,
            [[name, list(bounds)] for name, bounds in spec.limits.items()], digests]


def _decode_spec(data: Any) -> tuple[DemoSpec, dict[str, str]]:
    name, path, fields, figures, timeout_s, doc, local_modules, device, limits, digests = data
    texts = [name, path, doc, device, *local_modules, *figures, *figures.values(), *digests, *digests.values()]
    numbers = [timeout_s, *(b for _, bounds in limits for b in bounds)]
    if not all(isinstance(t, str) for t in texts) or not all(n is None or isinstance(n, (int, float)) for n in numbers):
        raise ValueError("not a demo's spec")
    fields = {f[0]: FieldSpec(str(f[0]), str(f[1]), decode_value(f[2]), str(f[3])) for f in fields}
    spec = DemoSpec(name, Path(path), fields, dict(figures), timeout_s, doc, [Path(p) for p in local_modules], device,
                    {str(n): (low, high) for n, (low, high) in limits})
    return spec, dict(digests)


class SpecCache:
    """Each demo's spec, parsed once and kept while its source and the modules it imports are unchanged.

    Kept between builds under ``mkdocs serve``; a demo that fails to parse is retried when its file
    changes. ``archive`` (hooks.kb.archive) keeps the specs between sessions, by the demo's path and
    the bytes of its file and of every local module it imports: a build or ``notes demos`` with no
    demo changed parses none of them.
    """

    def __init__(self, demos_dir: Path, archive: Archive | None = None):
        self.demos_dir = Path(demos_dir)
        self._specs: dict[str, tuple[tuple, DemoSpec | DemoError]] = {}
        self.archive = archive

    def _load(self, name: str, own: Path) -> DemoSpec:
        key = None
        if self.archive is not None:
            digest = _file_digest(own)
            key = (str(own.resolve()), digest) if digest else None
            kept = self.archive.get("specs", key, _decode_spec)
            if kept is not None:
                spec, digests = kept
                if all(_file_digest(Path(path)) == d for path, d in digests.items()):
                    return spec
        spec = load_spec(self.demos_dir, name)
        if self.archive is not None and key is not None:
            digests = {str(path): _file_digest(path) for path in spec.local_modules}
            if all(digests.values()):
                self.archive.put("specs", key, (spec, digests), _encode_spec)
        return spec

    def get(self, name: str) -> DemoSpec:
        known = self._specs.get(name)
        own = self.demos_dir / f"{name}.py"
        if known is not None:
            stamp, found = known
            files = found.local_modules if isinstance(found, DemoSpec) else [own]
            if stamp != _stamps(files):
                known = None
        if known is None:
            try:
                found = self._load(name, own)
                files = found.local_modules
            except DemoError as exc:
                found, files = exc, [own]
            known = (_stamps(files), found)
            self._specs[name] = known
        found = known[1]
        if isinstance(found, DemoError):
            raise found
        return found


def parse_ref(line: str, src_uri: str, display_path: str, line_number: int, specs: SpecCache) -> FigureRef:
    """One directive line checked against the demo it names; raise DemoError naming what is wrong."""
    caption, target = split_directive(line)
    demo, figure, raw = parse_target(target)
    spec = specs.get(demo)
    if figure not in spec.figures:
        raise DemoError(f"demo '{demo}' has no figure '{figure}' (known: {', '.join(spec.figures)})")
    swept = [key for key, value in raw.items() if _SWEEP_SPLIT.search(value)]
    if len(swept) > 1:
        raise DemoError(f"only one parameter may list values with '{SWEEP_SEPARATOR}' (here {', '.join(repr(k) for k in swept)}); sweep one and fix the others")
    raw = {k: (v if k in swept else _unescape(v)) for k, v in raw.items()}
    if not swept:
        params, changed = resolve_params(spec, raw)
        return FigureRef(src_uri, display_path, line_number, caption, demo, figure, changed, params, params_id(changed), line.strip())
    key = swept[0]
    variants = sweep_variants(spec, raw, key)
    first = variants[0]
    return FigureRef(src_uri, display_path, line_number, caption, demo, figure, first.overrides, first.params, first.params_id,
                     line.strip(), sweep=key, variants=variants)


def _unescape(value: str) -> str:
    return value.replace("\\|", "|")


def sweep_variants(spec: DemoSpec, raw: dict[str, str], key: str) -> list[Variant]:
    """One :class:`Variant` per value of ``raw[key]`` (``a|b|c``); raise DemoError naming what is wrong."""
    labels = [_unescape(v.strip()) for v in _SWEEP_SPLIT.split(raw[key])]
    if any(not label for label in labels):
        raise DemoError(f"parameter '{key}' lists an empty value in '{raw[key]}'; write values joined by '{SWEEP_SEPARATOR}', e.g. {key}=0.25|0.5|1.0")
    if len(labels) > MAX_SWEEP_VALUES:
        raise DemoError(f"parameter '{key}' sweeps {len(labels)} values; at most {MAX_SWEEP_VALUES} are allowed (each value is a run of the demo)")
    variants: list[Variant] = []
    seen: dict[Any, str] = {}
    for label in labels:
        params, changed = resolve_params(spec, {**raw, key: label})
        value = params[key]
        if value in seen:
            raise DemoError(f"parameter '{key}' lists the value {label} twice (as '{seen[value]}' before); each value of a sweep is shown once")
        seen[value] = label
        variants.append(Variant(value, label, changed, params, params_id(changed)))
    return variants


def collect_refs(pages: Iterable[tuple[str, str, str, int] | tuple[str, str, str, int, Scan]],
                 specs: SpecCache) -> tuple[list[FigureRef], list[Problem]]:
    """Every valid directive of the given pages, and one problem per invalid one.

    ``pages``: ``(src_uri, display_path, body, line number of the body's first line)`` of each
    published page, optionally followed by the scan of the body already made (hooks.kb.graph.Parsed.scan).
    """
    refs: list[FigureRef] = []
    problems: list[Problem] = []
    for src_uri, display_path, body, body_line, *found in pages:
        for index, line in directive_lines(body, found[0] if found else None):
            number = body_line + index
            try:
                ref = parse_ref(line, src_uri, display_path, number, specs)
            except DemoError as exc:
                problems.append(exc.problem(display_path, number) if not exc.path else
                                Problem(display_path, number, f"{exc.message} ({exc.path}{':' + str(exc.line) if exc.line else ''})"))
                continue
            if not ref.caption:
                problems.append(Problem(display_path, number, "a demo figure needs a caption (it is the alt text): !demo[What to notice](demo/figure)", "warning"))
            refs.append(ref)
    return refs, problems
