"""Numbers bound to runs: a page states a measured number by naming where it comes from, and the build
writes the number from the run's ``data.json``.

The syntax is an inline code span that starts with ``{run}`` (the inline-expression form of Quarto,
`` `{python} expr` ``, and MyST's ``{eval}`` role, narrowed to reading one run's data)::

    `{run} DEMO[?key=value&...] KEY [REDUCER] [:FORMAT] [~TOLERANCE]`

- ``DEMO?key=value``: the run, as a figure directive names it (same parameters, same runs and cache).
  A whole-number parameter may give a range, ``seed=0..3``: the number is then read from each run of
  the range and written ``low–high`` (one value when they agree as written).
- ``KEY``: a path into ``data.json``, dotted (``alignment.ratio_empirical_to_theory.0/1``; a key
  that holds dots is found too), with list indices (``linear.theory[-1]``); ``@seconds`` is the
  run's time from its manifest.
- ``REDUCER``: for a list, one of ``max min mean median first last count sum``.
- ``:FORMAT``: a Python format spec (``:.2f``, ``:,.0f``, ``:.0%``); by default three significant
  digits, whole numbers with thousands separators.
- ``~TOLERANCE``: how far the number may move between a run and the run that replaces it before
  the build warns (``~10%`` relative, ``~0.01`` absolute); ``extra.demos.drift_tolerance`` by default.

Outside code in Obsidian the span stays readable as what it is (the source of the number). A span
that cannot be read, or names a demo, parameter, key or format that does not exist, is a problem
naming its file and line; the page then shows the span marked as unavailable.

Drift: a run made to replace another of the same demo and parameters carries that run's data
(``replaced.json`` in its cache entry, written by the executors), so every build, with a local or
a remote cache, can say which numbers moved and by how much (:func:`drift`).
"""
from __future__ import annotations

import functools
import json
import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import parse_qsl

from hooks.figures.directive import MAX_SWEEP_VALUES, SpecCache
from hooks.figures.model import Entry, Result
from hooks.figures.spec import DemoError, params_id, resolve_params
from hooks.figures.validate import REPLACED
from hooks.markdown import BOUND_NUMBER, DIRECTIVE_RE, Scan, code_spans, escape_html as esc, scan, with_numbers
from hooks.problems import Problem

ROLE = BOUND_NUMBER
REDUCERS = {
    "max": max,
    "min": min,
    "mean": statistics.fmean,
    "median": statistics.median,
    "first": lambda xs: xs[0],
    "last": lambda xs: xs[-1],
    "count": len,
    "sum": math.fsum,
}
MANIFEST_KEYS = {"@seconds": "seconds", "@seed": "seed"}
_RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)$")
_INDEX = re.compile(r"^(?P<name>.*?)(?P<index>(?:\[-?\d+\])+)$")
_TOLERANCE = re.compile(r"^(?P<value>\d+(?:\.\d+)?)(?P<percent>%?)$")


class NumberError(DemoError):
    """A bound number that cannot be read or computed; says what to write instead."""


# --- reading a span ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tolerance:
    value: float
    relative: bool

    def exceeded(self, before: float, now: float) -> bool:
        limit = self.value * abs(before) if self.relative else self.value
        return abs(now - before) > limit + 1e-12

    def __str__(self) -> str:
        return f"{self.value * 100:g} %" if self.relative else f"{self.value:g}"


DEFAULT_TOLERANCE = Tolerance(0.05, True)  # 5 % of the earlier value


def parse_tolerance(text: str) -> Tolerance:
    """``5%`` (of the earlier value) or ``0.01`` (absolute); raise NumberError otherwise."""
    m = _TOLERANCE.match(str(text).strip())
    if not m:
        raise NumberError(f"'{text}' is not a tolerance; write a percentage like 5% or an absolute amount like 0.01")
    value = float(m.group("value"))
    return Tolerance(value / 100, True) if m.group("percent") else Tolerance(value, False)


@dataclass(frozen=True)
class NumberRef:
    """One bound number in one page."""

    src_uri: str
    display_path: str
    line: int
    raw: str  # the span's text without its backticks, stripped: how the page finds it again
    demo: str
    key: str
    reducer: str | None = None
    fmt: str | None = None
    tolerance: Tolerance | None = None
    ranged: str | None = None  # the parameter given as a range (seed=0..3), if any
    variants: tuple[tuple[Any, dict[str, Any], dict[str, Any], str], ...] = ()  # (value of ranged, params, overrides, params_id)

    @property
    def runs(self) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
        """``(params, overrides, params_id)`` of every run the number is read from (as a figure's)."""
        return [(params, overrides, pid) for _, params, overrides, pid in self.variants]

    def describe(self) -> str:
        """Where the number comes from, in words: demo, parameters, key, reducer."""
        first = self.variants[0]
        params = ", ".join(f"{k}={v}" for k, v in sorted(first[2].items()) if k != self.ranged)
        if self.ranged:
            values = [v[0] for v in self.variants]
            params = ", ".join(p for p in (params, f"{self.ranged} {values[0]}–{values[-1]}") if p)
        what = f"{self.reducer} of {self.key}" if self.reducer else self.key
        return f"{self.demo} ({params or 'defaults'}): {what}"


def span_text(code: str) -> str | None:
    """The content of an inline code span (backticks included) when it binds a number, else None."""
    inner = code.strip("`")
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip():
        inner = inner[1:-1]  # CommonMark strips one space on each side
    inner = inner.strip()
    return inner if inner.startswith(ROLE) else None


def number_spans(markdown: str, result: Scan | None = None, *, directives: bool = True) -> Iterator[tuple[int, int, int, str]]:
    """``(0-based line, start, end, text)`` of every bound-number span on a text line; on figure
    directive lines too (a caption may hold numbers) unless ``directives`` is False."""
    if ROLE not in markdown:
        return
    result = result or scan(markdown)
    for index in result.text_lines():
        line = result.lines[index]
        if ROLE not in line or (not directives and DIRECTIVE_RE.match(line)):
            continue
        for start, end in code_spans(line):
            text = span_text(line[start:end])
            if text is not None:
                yield index, start, end, text


def parse_number(text: str, src_uri: str, display_path: str, line: int, specs: SpecCache) -> NumberRef:
    """One span's text (``{run} demo key ...``) checked against the demo it names; raise DemoError."""
    tokens = text[len(ROLE):].split()
    if len(tokens) < 2:
        raise NumberError(f"'{text}' names no key; write `{{run}} DEMO[?param=value] KEY [max|min|mean|...] [:FORMAT]`, "
                          "e.g. `{run} double_descent linear.theory max :.2f`")
    target, key, rest = tokens[0], tokens[1], tokens[2:]
    demo, _, query = target.partition("?")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise NumberError(f"the parameters '{query}' are not key=value pairs joined with '&'") from None
    spec = specs.get(demo)
    raw: dict[str, str] = {}
    for name, value in pairs:
        if name in raw:
            raise NumberError(f"parameter '{name}' is given twice")
        raw[name] = value
    ranged = [name for name, value in raw.items() if _RANGE.match(value)]
    if len(ranged) > 1:
        raise NumberError(f"only one parameter may be a range (here {', '.join(ranged)})")
    variants = []
    if ranged:
        name = ranged[0]
        low, high = (int(x) for x in _RANGE.match(raw[name]).groups())
        if high < low or high - low + 1 > MAX_SWEEP_VALUES:
            raise NumberError(f"the range {name}={raw[name]} must run upwards over at most {MAX_SWEEP_VALUES} values (each is a run of the demo)")
        for value in range(low, high + 1):
            params, changed = resolve_params(spec, {**raw, name: str(value)})
            variants.append((value, params, changed, params_id(changed)))
    else:
        params, changed = resolve_params(spec, raw)
        variants.append((None, params, changed, params_id(changed)))
    reducer = fmt = tolerance = None
    for token in rest:
        if token in REDUCERS:
            if reducer:
                raise NumberError(f"two reducers ({reducer}, {token}); keep one")
            reducer = token
        elif token.startswith(":"):
            fmt = token[1:]
            _check_format(fmt)
        elif token.startswith("~"):
            tolerance = parse_tolerance(token[1:])
        else:
            raise NumberError(f"'{token}' is neither a reducer ({', '.join(REDUCERS)}), a :format nor a ~tolerance")
    if key.startswith("@") and key not in MANIFEST_KEYS:
        raise NumberError(f"'{key}' is not a field of a run; use {' or '.join(MANIFEST_KEYS)}, or a key of its data.json")
    return NumberRef(src_uri, display_path, line, text, demo, key, reducer, fmt, tolerance, ranged[0] if ranged else None, tuple(variants))


def _check_format(fmt: str) -> None:
    probe = 1 if fmt[-1:] in ("d", "n", "b", "o", "x", "X", "c") else 1.5
    try:
        format(probe, fmt)
    except (ValueError, TypeError):
        raise NumberError(f"':{fmt}' is not a number format; write a Python format spec such as :.2f, :,.0f or :.0%") from None


def collect_numbers(pages: Iterable[tuple[str, str, str, int] | tuple[str, str, str, int, Scan]],
                    specs: SpecCache) -> tuple[list[NumberRef], list[Problem]]:
    """Every bound number of the given pages (as hooks.figures.directive.collect_refs takes them), and
    one problem per span that cannot be read."""
    refs: list[NumberRef] = []
    problems: list[Problem] = []
    for src_uri, display_path, body, body_line, *found in pages:
        for index, _, _, text in number_spans(body, found[0] if found else None):
            number = body_line + index
            try:
                refs.append(parse_number(text, src_uri, display_path, number, specs))
            except DemoError as exc:
                where = f" ({exc.path})" if exc.path else ""
                problems.append(Problem(display_path, number, f"`{text}`: {exc.message}{where}"))
    return refs, problems


# --- the value ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _json_file(path: str, key: str) -> Any:
    """A cache entry's JSON file, read once per entry (entries never change under their key)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


def run_data(entry: Entry) -> Any:
    return _json_file(str(entry.file("data.json")), entry.key) if entry.has("data.json") else None


def replaced_data(entry: Entry) -> tuple[dict[str, Any], Any] | None:
    """``(what the replaced run was: key, finished_at, reran_because; its data)``, or None."""
    if not entry.has(REPLACED):
        return None
    stored = _json_file(str(entry.file(REPLACED)), entry.key)
    if not isinstance(stored, dict) or "data" not in stored:
        return None
    return {k: stored.get(k) for k in ("key", "finished_at")}, stored["data"]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def lookup(data: Any, key: str) -> Any:
    """The value at ``key`` in ``data``; raise NumberError naming the part of the path that is missing."""
    parts = key.split(".")
    value, done = data, []
    i = 0
    while i < len(parts):
        if not isinstance(value, dict):
            raise NumberError(f"'{'.'.join(done)}' holds no keys (it is {_kind(value)}), so '{key}' is not in the run's data")
        for j in range(len(parts), i, -1):  # the longest run of parts that is a key (keys may hold dots)
            name = ".".join(parts[i:j])
            m = _INDEX.match(name) if name not in value else None
            base = m.group("name") if m else name
            if base in value:
                value = value[base]
                done.append(base)
                if m:
                    for index in re.findall(r"-?\d+", m.group("index")):
                        if not isinstance(value, list) or not -len(value) <= int(index) < len(value):
                            raise NumberError(f"'{'.'.join(done)}' has no item [{index}] (it is {_kind(value)})")
                        value = value[int(index)]
                i = j
                break
        else:
            where = ".".join(done)
            known = ", ".join(sorted(str(k) for k in value)[:12])
            raise NumberError(f"the run's data has no key '{parts[i]}'{' under ' + repr(where) if where else ''} (keys there: {known})")
    return value


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if _is_number(value):
        return f"the number {value:g}"
    return "empty (null)" if value is None else f"{type(value).__name__} {json.dumps(value)[:40]}"


def value_of(ref: NumberRef, data: Any, manifest: Mapping[str, Any]) -> float:
    """The number ``ref`` reads from one run; raise NumberError saying what is wrong."""
    if ref.key in MANIFEST_KEYS:
        value = manifest.get(MANIFEST_KEYS[ref.key])
    else:
        if data is None:
            raise NumberError("the run left no readable data.json")
        value = lookup(data, ref.key)
    if ref.reducer:
        if not isinstance(value, list):
            raise NumberError(f"'{ref.key}' is {_kind(value)}, not a list: drop '{ref.reducer}'")
        numbers = [v for v in value if _is_number(v)]
        if ref.reducer != "count" and not numbers:
            raise NumberError(f"'{ref.key}' holds no numbers to take the {ref.reducer} of")
        value = REDUCERS[ref.reducer](numbers if ref.reducer != "count" else value)
    elif isinstance(value, list):
        raise NumberError(f"'{ref.key}' is {_kind(value)}; add a reducer ({', '.join(REDUCERS)}) or an index like {ref.key}[0]")
    if not _is_number(value):
        raise NumberError(f"'{ref.key}' is {_kind(value)}, not a number")
    return value


def format_value(value: float, fmt: str | None) -> str:
    """As the page shows it: ``fmt`` (a Python format spec), else three significant digits without
    trailing zeros and with thousands separators (0.5, 1.86, 0.0123, 1,235), whole numbers as such."""
    if fmt is not None:
        if fmt[-1:] in ("d", "n", "b", "o", "x", "X", "c"):
            if float(value) != int(value):
                raise NumberError(f"':{fmt}' needs a whole number, and the value is {value!r}; use a format like :.0f")
            value = int(value)
        return format(value, fmt).replace("-", "−")
    if float(value) == int(value) and abs(value) < 1e15:
        return f"{int(value):,}".replace("-", "−")
    digits = 2 - math.floor(math.log10(abs(value)))
    text = f"{value:,.{digits}f}".rstrip("0").rstrip(".") if digits > 0 else f"{round(value):,}"
    return text.replace("-", "−")


@dataclass
class Shown:
    """A bound number as this build shows it: its text, where it came from, or why there is none."""

    ref: NumberRef
    text: str = ""  # the number (a range "a–b" over the runs of a range)
    values: tuple[float, ...] = ()  # one per run
    entries: tuple[Entry, ...] = ()  # the runs it was read from
    error: str = ""  # why it cannot be shown (no run yet, a missing key, ...)
    severity: str = "error"  # of the problem ``error`` is: a run that failed or is running is a warning

    @property
    def title(self) -> str:
        """The hover text: where the number comes from."""
        if self.error:
            return f"{self.ref.describe()}: {self.error}"
        days = sorted({str(e.manifest.get("finished_at", ""))[:10] for e in self.entries})
        runs = "run" if len(self.entries) == 1 else f"{len(self.entries)} runs"
        return f"{self.ref.describe()}, from the {runs} of {', '.join(days)}"


Runs = Mapping[tuple[str, str], Result]


def show(ref: NumberRef, runs: Runs) -> Shown:
    """The number ``ref`` binds, from this build's runs (their shown entry: a stale one when a run failed)."""
    values, entries = [], []
    for _, _, _, pid in ref.variants:
        result = runs.get((ref.demo, pid))
        entry = result.shown if result is not None else None
        if entry is None:
            why = result.error if result is not None and result.error else "no run of these parameters yet"
            return Shown(ref, error=f"no number to show ({why})", severity="warning" if result is not None else "error")
        try:
            values.append(value_of(ref, run_data(entry), entry.manifest))
        except NumberError as exc:
            return Shown(ref, error=exc.message)
        entries.append(entry)
    try:
        text = _range_text(values, ref.fmt)
    except NumberError as exc:
        return Shown(ref, error=exc.message)
    return Shown(ref, text, tuple(values), tuple(entries))


def _range_text(values: list[float], fmt: str | None) -> str:
    low, high = format_value(min(values), fmt), format_value(max(values), fmt)
    return low if low == high else f"{low}–{high}"


def number_html(shown: Shown, href: Callable[[str], str] | None = None, runs_page: str | None = None) -> str:
    """The number as it stands in the page's HTML: its text, a link to its run on the Demo runs page
    where one is given, with where it came from on hover and focus (``data-kb-from``, shown by
    docs/assets/demos.css, and ``title``)."""
    title = esc(shown.title)
    if shown.error:
        return f'<code class="kb-number kb-number-missing" title="{title}">{esc(shown.ref.raw)}</code>'
    if href is not None and runs_page is not None:
        entry_id = run_anchor(shown.ref.demo, shown.ref.variants[0][3])
        return (f'<a class="kb-number" href="{esc(href(runs_page))}#{entry_id}" title="{title}" '
                f'data-kb-from="{title}">{esc(shown.text)}</a>')
    return f'<span class="kb-number" title="{title}">{esc(shown.text)}</span>'


def run_anchor(demo: str, pid: str) -> str:
    """The id of a run's row on the Demo runs page."""
    return "run-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{demo}-{pid}")


def _missing(text: str) -> str:
    return (f'<code class="kb-number kb-number-missing" title="this number could not be read (see the problems of the build)">'
            f"{esc(text)}</code>")


@dataclass
class PageNumbers:
    """The bound numbers of one page as this build shows them, by their span's text, and how each is
    written: ``href`` (URLs relative to the page) and ``runs_page`` make each number a link to its run."""

    shown: Mapping[str, Shown] = field(default_factory=dict)
    href: Callable[[str], str] | None = None
    runs_page: str | None = None

    def render(self, text: str) -> str:
        found = self.shown.get(text)
        return _missing(text) if found is None else number_html(found, self.href, self.runs_page)

    def replace(self, markdown: str, result: Scan | None = None) -> str:
        """``markdown`` with each bound-number span on a text line replaced by the number."""
        if ROLE not in markdown:
            return markdown
        found = list(number_spans(markdown, result, directives=False))  # a figure writes its caption's
        if not found:
            return markdown
        lines = markdown.split("\n")
        for index, start, end, text in reversed(found):
            line = lines[index]
            lines[index] = line[:start] + self.render(text) + line[end:]
        return "\n".join(lines)

    def _pieces(self, text: str) -> Iterator[tuple[str, str | None]]:
        """``(text before, span text or None)`` along one line of text."""
        last = 0
        if ROLE in text:
            for start, end in code_spans(text):
                value = span_text(text[start:end])
                if value is not None:
                    yield text[last:start], value
                    last = end
        yield text[last:], None

    @property
    def values(self) -> dict[str, str]:
        """Each number shown, as text, by its span's text (hooks.markdown.with_numbers)."""
        return {raw: found.text for raw, found in self.shown.items() if not found.error}

    def plain(self, text: str) -> str:
        """One line (a caption) with each bound number as its value (the span as written where there is
        none): for alt text, galleries and previews."""
        return with_numbers(text, self.values)

    def html(self, text: str) -> str:
        """One line of plain text (a caption) as HTML, its bound numbers rendered."""
        return "".join(esc(before) + (self.render(value) if value is not None else "") for before, value in self._pieces(text))


# --- drift -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Moved:
    """One number of a run's data that differs from the run it replaced."""

    key: str  # its path in data.json (a list: its key, the item that moved most in ``index``)
    before: float
    now: float
    index: int | None = None  # for a list: which item moved most
    size: tuple[int, int] | None = None  # for a list whose length changed: (before, now)

    @property
    def change(self) -> float:
        """Relative change (the absolute one when the earlier value was 0)."""
        return (self.now - self.before) / abs(self.before) if self.before else self.now - self.before


def _leaves(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(key path, number or list of numbers)`` of every number in ``data``."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, list) and data and all(_is_number(v) or v is None for v in data):
        yield prefix, data
    elif isinstance(data, list):
        for i, v in enumerate(data[:64]):
            yield from _leaves(v, f"{prefix}[{i}]")
    elif _is_number(data):
        yield prefix, data


def _rel(before: float, now: float) -> float:
    return abs(now - before) / abs(before) if before else abs(now - before)


def compare(before: Any, now: Any) -> list[Moved]:
    """Every number of ``now`` that differs from the same key of ``before``, largest change first."""
    old = dict(_leaves(before))
    moved = []
    for key, value in _leaves(now):
        if key not in old:
            continue
        was = old[key]
        if isinstance(value, list) != isinstance(was, list):
            continue
        if not isinstance(value, list):
            if value != was:
                moved.append(Moved(key, was, value))
            continue
        pairs = [(i, a, b) for i, (a, b) in enumerate(zip(was, value)) if _is_number(a) and _is_number(b) and a != b]
        size = (len(was), len(value)) if len(was) != len(value) else None
        if pairs:
            i, a, b = max(pairs, key=lambda p: _rel(p[1], p[2]))
            moved.append(Moved(key, a, b, i, size))
        elif size:
            moved.append(Moved(key, len(was), len(value), None, size))
    return sorted(moved, key=lambda m: (-_rel(m.before, m.now), m.key))


@dataclass
class Drift:
    """What moved in one run since the run it replaced."""

    result: Result
    replaced: dict[str, Any]  # key, finished_at of the replaced run
    moved: list[Moved]


def drift(result: Result) -> Drift | None:
    """The numbers of a run made to replace another that moved (None when it replaced none that kept its data)."""
    entry = result.entry
    if entry is None:
        return None
    found = replaced_data(entry)
    if found is None:
        return None
    what, before = found
    return Drift(result, what, compare(before, run_data(entry)))


def drift_problems(numbers: Iterable[NumberRef], runs: Runs, default: Tolerance,
                   edited: Callable[[str], str | None] = lambda path: None) -> list[Problem]:
    """A warning for each bound number that moved by more than its tolerance since the run it replaced,
    until its page is saved after that run: ``edited(display_path)``, when the page was last written
    (UTC, ISO 8601, as a manifest's ``finished_at``). Saving the page is how its writer says the text
    around the number was read again."""
    problems = []
    for ref in numbers:
        tolerance = ref.tolerance or default
        for _, _, _, pid in ref.variants:
            result = runs.get((ref.demo, pid))
            entry = result.entry if result is not None else None
            found = replaced_data(entry) if entry is not None else None
            if found is None:
                continue
            saved = edited(ref.display_path)
            if saved is not None and saved > str(entry.manifest.get("finished_at", "")):
                continue  # the page was written after this run: its writer has seen the new number
            what, before = found
            try:
                was = value_of(ref, before, {})
                now = value_of(ref, run_data(entry), entry.manifest)
            except NumberError:
                continue  # a key the earlier run did not have: nothing to compare
            if tolerance.exceeded(was, now):
                change = f"{(now - was) / abs(was) * 100:+.1f} %" if was else f"{now - was:+g}"
                problems.append(Problem(ref.display_path, ref.line,
                    f"`{ref.raw}` moved from {format_value(was, ref.fmt)} to {format_value(now, ref.fmt)} ({change}) since the run "
                    f"of {str(what.get('finished_at', ''))[:10] or 'an earlier day'} it replaced; read the text around it again "
                    f"and save the page (or allow more with ~N% in the span; tolerance {tolerance})", "warning"))
                break
    return problems
