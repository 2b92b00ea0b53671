"""The one-line figure directive ``!demo[Caption](demo/figure?key=value)``: find, validate, describe.

A directive stands alone on its line, outside code blocks. The caption becomes the figure's caption
and alt text; the query string overrides fields of the demo's Config.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qsl

from hooks.demo_spec import DemoError, DemoSpec, load_spec, params_id, resolve_params
from hooks.problems import Problem
from hooks.sources import Source

DIRECTIVE_RE = re.compile(r"^[ ]{0,3}!demo\[(?P<caption>[^\]]*)\]\((?P<target>[^)]*)\)\s*$")
FENCE_RE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")


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

    @property
    def where(self) -> str:
        return f"{self.display_path}:{self.line}"


def directive_lines(markdown: str, first_line: int = 1) -> Iterable[tuple[int, re.Match[str]]]:
    """Yield ``(line number, match)`` for every directive outside fenced code blocks."""
    fence: str | None = None
    for offset, line in enumerate(markdown.splitlines()):
        m = FENCE_RE.match(line)
        if m:
            marker = m.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
            continue
        if fence is None:
            d = DIRECTIVE_RE.match(line)
            if d:
                yield first_line + offset, d


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


class SpecCache:
    """Parse each demo's source once per build."""

    def __init__(self, demos_dir: Path):
        self.demos_dir = Path(demos_dir)
        self._specs: dict[str, DemoSpec | DemoError] = {}

    def get(self, name: str) -> DemoSpec:
        if name not in self._specs:
            try:
                self._specs[name] = load_spec(self.demos_dir, name)
            except DemoError as exc:
                self._specs[name] = exc
        found = self._specs[name]
        if isinstance(found, DemoError):
            raise found
        return found


def collect_refs(sources: Iterable[Source], specs: SpecCache) -> tuple[list[FigureRef], list[Problem]]:
    """Every valid directive of every page, and one problem per invalid one."""
    refs: list[FigureRef] = []
    problems: list[Problem] = []
    for src in sources:
        if not src.text or "!demo[" not in src.body:
            continue
        for line, m in directive_lines(src.body, src.body_line):
            try:
                demo, figure, raw = parse_target(m.group("target"))
                spec = specs.get(demo)
                if figure not in spec.figures:
                    raise DemoError(f"demo '{demo}' has no figure '{figure}' (known: {', '.join(spec.figures)})")
                params, changed = resolve_params(spec, raw)
            except DemoError as exc:
                problems.append(Problem(src.display_path, line, f"{exc}"))
                continue
            caption = m.group("caption").strip()
            if not caption:
                problems.append(
                    Problem(src.display_path, line, "a demo figure needs a caption (it is the alt text): !demo[What to notice](demo/figure)", "warning")
                )
            refs.append(FigureRef(src.src_uri, src.display_path, line, caption, demo, figure, changed, params, params_id(changed)))
    return refs, problems
