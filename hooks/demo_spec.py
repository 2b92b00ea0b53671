"""Read a demo's Config fields, FIGURES and local imports from its source, without importing it.

Importing a demo imports torch (seconds); reading its syntax tree costs milliseconds, which keeps a
build with every figure cached as cheap as a build without demos.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SCALAR_TYPES = ("int", "float", "bool", "str")


class DemoError(ValueError):
    """A demo cannot be used as asked (unknown name, bad parameter, malformed module)."""


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
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise DemoError(f"demos/{name}.py:{exc.lineno}: syntax error: {exc.msg}") from None
    lines = source.splitlines()
    fields: dict[str, FieldSpec] = {}
    figures: dict[str, str] | None = None
    timeout_s = None
    has_config = False
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Config" and _is_dataclass(node):
            has_config = True
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    kind = _annotation_name(stmt.annotation)
                    if kind not in SCALAR_TYPES:
                        raise DemoError(f"demos/{name}.py:{stmt.lineno}: Config.{stmt.target.id} has type {kind}; use int, float, bool or str")
                    if stmt.value is None:
                        raise DemoError(f"demos/{name}.py:{stmt.lineno}: Config.{stmt.target.id} needs a default value")
                    try:
                        default = ast.literal_eval(stmt.value)
                    except ValueError:
                        raise DemoError(f"demos/{name}.py:{stmt.lineno}: the default of Config.{stmt.target.id} must be a literal") from None
                    fields[stmt.target.id] = FieldSpec(stmt.target.id, kind, default, _trailing_comment(lines, stmt.lineno))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target in ("FIGURES", "TIMEOUT_S"):
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    raise DemoError(f"demos/{name}.py:{node.lineno}: {target} must be a literal") from None
                if target == "FIGURES":
                    if not isinstance(value, dict) or not value:
                        raise DemoError(f"demos/{name}.py:{node.lineno}: FIGURES must be a non-empty dict {{name: description}}")
                    figures = {str(k): str(v) for k, v in value.items()}
                else:
                    timeout_s = float(value)
    if not has_config:
        raise DemoError(f"demos/{name}.py: no '@dataclass class Config' found; every demo declares its parameters there")
    if figures is None:
        raise DemoError(f"demos/{name}.py: no FIGURES dict found; list the figures the demo writes")
    modules = [path]
    queue = [tree]
    while queue:
        for dep in _local_imports(queue.pop(), demos_dir):
            if dep not in modules:
                modules.append(dep)
                queue.append(_parse(dep))
    return DemoSpec(name, path, fields, figures, timeout_s, ast.get_docstring(tree) or "", modules)


def coerce(spec: DemoSpec, key: str, raw: Any) -> Any:
    """Turn an override (a string from a page, or a JSON value) into the field's type, or raise DemoError."""
    if key not in spec.fields:
        known = ", ".join(spec.fields) or "none"
        raise DemoError(f"demo '{spec.name}' has no parameter '{key}' (known: {known})")
    kind = spec.fields[key].type
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
            raise DemoError(f"parameter '{key}' of demo '{spec.name}' must be {kind}, not '{raw}'") from None
    ok = {
        "bool": isinstance(raw, bool),
        "int": isinstance(raw, int) and not isinstance(raw, bool),
        "float": isinstance(raw, (int, float)) and not isinstance(raw, bool),
        "str": isinstance(raw, str),
    }[kind]
    if not ok:
        raise DemoError(f"parameter '{key}' of demo '{spec.name}' must be {kind}, not {raw!r}")
    return float(raw) if kind == "float" else raw


def resolve_params(spec: DemoSpec, overrides: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Full parameters (defaults plus overrides) and the overrides that differ from the defaults."""
    params = spec.defaults()
    changed = {}
    for key, raw in overrides.items():
        value = coerce(spec, key, raw)
        params[key] = value
        if value != spec.fields[key].default:
            changed[key] = value
    return params, dict(sorted(changed.items()))


def params_id(changed: dict[str, Any]) -> str:
    """A folder name for a set of overrides: ``default``, or ``key-value_key-value`` (hashed when long)."""
    if not changed:
        return "default"
    text = "_".join(f"{k}-{v}" for k, v in sorted(changed.items()))
    text = re.sub(r"[^A-Za-z0-9.\-_]+", "-", text)
    if len(text) > 60:
        text = text[:40] + "-" + hashlib.sha256(text.encode()).hexdigest()[:12]
    return text
