"""Read a demo's Config fields, FIGURES and local imports from its source, without importing it.

Importing a demo imports torch (seconds); reading its syntax tree costs milliseconds, which keeps a
build with every figure cached as cheap as a build without demos.
"""
from __future__ import annotations

import ast
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from hooks.hashing import digest_of
from hooks.problems import LocatedError

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SCALAR_TYPES = ("int", "float", "bool", "str")
DEVICES = ("cpu", "any", "cuda")  # DEVICE = ...: runs on the CPU only, on a GPU when there is one, needs a GPU
MAX_TIMEOUT_S = 24 * 3600


class DemoError(LocatedError):
    """A demo cannot be used as asked (unknown name, bad parameter, malformed module); ``path`` and
    ``line`` name the demo's source when the mistake is there, and stay empty when it is in a page."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # one of SCALAR_TYPES
    default: Any
    comment: str = ""


@dataclass
class DemoSpec:
    name: str
    path: Path
    fields: dict[str, FieldSpec]
    figures: dict[str, str]
    timeout_s: float | None = None
    doc: str = ""
    local_modules: list[Path] = field(default_factory=list)  # the demo file and every local module it imports
    device: str = "cpu"  # DEVICE: "cpu", "any" or "cuda" (see DEVICES)
    limits: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)  # LIMITS: field -> (low, high)

    def defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in self.fields.values()}

    @property
    def seed_field(self) -> str | None:
        return "seed" if "seed" in self.fields else None


def demo_names(demos_dir: Path) -> list[str]:
    """Every demo in ``demos_dir``: modules whose names do not start with an underscore."""
    return sorted(p.stem for p in Path(demos_dir).glob("*.py") if NAME_RE.match(p.stem))


def _annotation_name(node: ast.expr | None) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ast.unparse(node) if node is not None else "?"


def _trailing_comment(lines: list[str], lineno: int) -> str:
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    return line.split("#", 1)[1].strip() if "#" in line else ""


def _is_dataclass(cls: ast.ClassDef) -> bool:
    for dec in cls.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if (isinstance(target, ast.Name) and target.id == "dataclass") or (
            isinstance(target, ast.Attribute) and target.attr == "dataclass"
        ):
            return True
    return False


def _statements(body: list[ast.stmt]):
    """Every statement, nested ones included, without descending into expressions (much cheaper than ast.walk)."""
    for node in body:
        yield node
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(node, name, None)
            if isinstance(inner, list):
                yield from _statements(inner)
        for handler in getattr(node, "handlers", ()) or ():
            yield from _statements(handler.body)
        for case in getattr(node, "cases", ()) or ():
            yield from _statements(case.body)


def _local_imports(tree: ast.Module, demos_dir: Path) -> list[Path]:
    """Modules of ``demos_dir`` imported by this tree (``demos.X``, ``from demos import X``, ``from . import X``)."""
    found: list[Path] = []

    def add(mod: str) -> None:
        p = demos_dir / f"{mod}.py"
        if p.is_file() and p not in found:
            found.append(p)

    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "demos" and len(parts) > 1:
                    add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".") if node.module else []
            if node.level == 0 and parts[:1] == ["demos"]:
                if len(parts) > 1:
                    add(parts[1])
                else:
                    for alias in node.names:
                        add(alias.name)
            elif node.level == 1:
                if parts:
                    add(parts[0])
                else:
                    for alias in node.names:
                        add(alias.name)
    return found


@functools.lru_cache(maxsize=256)
def _parse_cached(path: str, mtime_ns: int, size: int) -> ast.Module:
    return ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)


def _parse(path: Path) -> ast.Module:
    """Parse a module once per content version (a helper imported by every demo is parsed once)."""
    st = path.stat()
    return _parse_cached(str(path), st.st_mtime_ns, st.st_size)


def load_spec(demos_dir: str | Path, name: str) -> DemoSpec:
    """Parse ``demos_dir/name.py``; raise :class:`DemoError` with a message a person can act on."""
    demos_dir = Path(demos_dir)
    if not NAME_RE.match(name):
        raise DemoError(
            f"'{name}' is not a demo name (use a module name of demos/ such as 'double_descent'; "
            "paths and names starting with '_' are not allowed)"
        )
    path = demos_dir / f"{name}.py"
    if not path.is_file():
        known = ", ".join(demo_names(demos_dir)) or "none"
        raise DemoError(f"unknown demo '{name}' (known: {known})")
    rel = f"demos/{name}.py"
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DemoError(f"cannot be read ({exc}); save it as UTF-8 text", rel) from None
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise DemoError(f"syntax error: {exc.msg}; fix the demo's source", rel, exc.lineno or 0) from None
    except (ValueError, RecursionError) as exc:
        raise DemoError(f"cannot be parsed ({exc}); fix the demo's source", rel) from None
    lines = source.splitlines()
    fields: dict[str, FieldSpec] = {}
    figures: dict[str, str] | None = None
    timeout_s = None
    device = "cpu"
    limits: dict[str, tuple[float | None, float | None]] = {}
    limits_line = 0
    has_config = False
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Config" and _is_dataclass(node):
            has_config = True
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    kind = _annotation_name(stmt.annotation)
                    if kind not in SCALAR_TYPES:
                        raise DemoError(f"Config.{stmt.target.id} has type {kind}; use int, float, bool or str", rel, stmt.lineno)
                    if stmt.value is None:
                        raise DemoError(f"Config.{stmt.target.id} needs a default value", rel, stmt.lineno)
                    try:
                        default = ast.literal_eval(stmt.value)
                    except (ValueError, TypeError, SyntaxError, RecursionError):
                        raise DemoError(f"the default of Config.{stmt.target.id} must be a literal", rel, stmt.lineno) from None
                    fields[stmt.target.id] = FieldSpec(stmt.target.id, kind, default, _trailing_comment(lines, stmt.lineno))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target in ("FIGURES", "TIMEOUT_S", "DEVICE", "LIMITS"):
                try:
                    value = ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError, RecursionError):
                    raise DemoError(f"{target} must be a literal", rel, node.lineno) from None
                if target == "FIGURES":
                    if not isinstance(value, dict) or not value or not all(isinstance(k, str) and NAME_RE.match(k) for k in value):
                        raise DemoError("FIGURES must be a non-empty dict {name: description} with lowercase names", rel, node.lineno)
                    figures = {str(k): str(v) for k, v in value.items()}
                elif target == "TIMEOUT_S":
                    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT_S:
                        raise DemoError(f"TIMEOUT_S must be a number of seconds between 1 and {MAX_TIMEOUT_S}, not {value!r}", rel, node.lineno)
                    timeout_s = float(value)
                elif target == "DEVICE":
                    if value not in DEVICES:
                        raise DemoError(f"DEVICE must be one of {', '.join(repr(d) for d in DEVICES)}, not {value!r}", rel, node.lineno)
                    device = value
                else:
                    limits, limits_line = _read_limits(value, rel, node.lineno), node.lineno
    if not has_config:
        raise DemoError("no '@dataclass class Config' found; every demo declares its parameters there", rel)
    if figures is None:
        raise DemoError("no FIGURES dict found; list the figures the demo writes", rel)
    for key in limits:
        if key not in fields or fields[key].type not in ("int", "float"):
            raise DemoError(f"LIMITS names '{key}', which is not an int or float field of Config", rel, limits_line)
    modules = [path]
    queue = [tree]
    while queue:
        for dep in _local_imports(queue.pop(), demos_dir):
            if dep not in modules:
                modules.append(dep)
                try:
                    queue.append(_parse(dep))
                except SyntaxError as exc:
                    raise DemoError(f"syntax error: {exc.msg} (in a module demo '{name}' imports)", f"demos/{dep.name}", exc.lineno or 0) from None
                except (OSError, UnicodeDecodeError, ValueError) as exc:
                    raise DemoError(f"cannot be read ({exc}) (a module demo '{name}' imports)", f"demos/{dep.name}") from None
    return DemoSpec(name, path, fields, figures, timeout_s, ast.get_docstring(tree) or "", modules, device, limits)


def _read_limits(value: Any, rel: str, line: int) -> dict[str, tuple[float | None, float | None]]:
    """``LIMITS = {"n": (1, 10_000), "sigma": (0, None)}``: the range each numeric parameter may take."""
    def bound(x: Any) -> bool:
        return x is None or (isinstance(x, (int, float)) and not isinstance(x, bool))

    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, tuple) and len(v) == 2 and bound(v[0]) and bound(v[1]) for k, v in value.items()
    ):
        raise DemoError("LIMITS must be a dict {field: (low, high)} of numbers or None", rel, line)
    return dict(value)


def coerce_param(
    demo: str, kinds: Mapping[str, str], limits: Mapping[str, tuple[float | None, float | None]], key: str, raw: Any
) -> Any:
    """One parameter override as the demo's field takes it, or DemoError naming the parameter.

    The one coercion of both the build (:func:`resolve_params`, with the types read from the demo's
    source) and a demo's own command line (``demos._common.demo_main``, with the types of its
    ``Config`` dataclass), so that ``--set`` refuses exactly what a page may not ask for. ``kinds``
    maps each field to its type's name (one of SCALAR_TYPES); ``raw`` is a string from a page or a
    command line, or a JSON value; the value must lie within ``limits`` (the demo's LIMITS).
    """
    if key not in kinds:
        known = ", ".join(kinds) or "none"
        raise DemoError(f"demo '{demo}' has no parameter '{key}' (known: {known})")
    value = _coerce(demo, kinds[key], key, raw)
    low, high = limits.get(key, (None, None))
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-∞" if low is None else f"{low:g}"
        hi = "∞" if high is None else f"{high:g}"
        raise DemoError(f"parameter '{key}' of demo '{demo}' must lie in [{lo}, {hi}] (LIMITS in demos/{demo}.py), not {value!r}")
    return value


def _coerce(demo: str, kind: str, key: str, raw: Any) -> Any:
    if isinstance(raw, str):
        text = raw.strip()
        try:
            if kind == "bool":
                if text.lower() in ("true", "yes", "1"):
                    return True
                if text.lower() in ("false", "no", "0"):
                    return False
                raise ValueError
            if kind == "int":
                return int(text)
            if kind == "float":
                value = float(text)
                if value != value or value in (float("inf"), float("-inf")):
                    raise ValueError
                return value
            return raw
        except ValueError:
            raise DemoError(f"parameter '{key}' of demo '{demo}' must be {kind}, not '{raw}'") from None
    ok = {
        "bool": isinstance(raw, bool),
        "int": isinstance(raw, int) and not isinstance(raw, bool),
        "float": isinstance(raw, (int, float)) and not isinstance(raw, bool),
        "str": isinstance(raw, str),
    }.get(kind, False)
    if not ok:
        raise DemoError(f"parameter '{key}' of demo '{demo}' must be {kind}, not {raw!r}")
    return float(raw) if kind == "float" else raw


def resolve_params(spec: DemoSpec, overrides: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Full parameters (defaults plus overrides) and the overrides that differ from the defaults."""
    params = spec.defaults()
    changed = {}
    kinds = {name: f.type for name, f in spec.fields.items()}
    for key, raw in overrides.items():
        value = coerce_param(spec.name, kinds, spec.limits, key, raw)
        params[key] = value
        if value != spec.fields[key].default:
            changed[key] = value
    return params, dict(sorted(changed.items()))


def params_id(changed: dict[str, Any]) -> str:
    """A folder name for a set of overrides, one per set: ``default``, or ``key-value_key-value``.

    The name is a run's folder, its URL (``demos/NAME/PARAMS/``) and part of its cache entry, so two
    sets must never share one. ``key-value_key-value`` is readable and can be read back when every
    value is written with the characters a name keeps and no text value holds the ``_`` that
    separates pairs (keys hold no ``-``): then it stays as published (cut to 40 characters plus a
    hash of itself when long). Any other set gets a hash of the exact values after its cleaned text,
    so ``label=a b`` and ``label=a-b`` (or ``1,3,5`` and ``1, 3, 5``) are two runs.
    """
    if not changed:
        return "default"
    text = "_".join(f"{k}-{v}" for k, v in sorted(changed.items()))
    clean = re.sub(r"[^A-Za-z0-9.\-_]+", "-", text)
    readable = clean == text and not any(isinstance(v, str) and "_" in v for v in changed.values())
    if readable:
        return clean if len(clean) <= 60 else clean[:40] + "-" + digest_of(clean, length=12)
    exact = digest_of(json.dumps(sorted((k, v) for k, v in changed.items())), length=12)
    return clean[:40] + "-" + exact
