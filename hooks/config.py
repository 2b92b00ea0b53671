"""This project's settings in mkdocs.yml (``extra.notes``, ``extra.demos``): validated, with the line of each key.

A wrong value is a :class:`ConfigError` that names mkdocs.yml, the line and the key, says what the
value must be and what was found, so a typo never ends in a traceback.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Iterable

import yaml

from hooks.problems import LocatedError

CONFIG_NAME = "mkdocs.yml"


class ConfigError(LocatedError):
    """A setting of mkdocs.yml (or an environment variable) that cannot be used."""


class _AnyTagLoader(yaml.SafeLoader):
    """Reads mkdocs.yml without running MkDocs' custom tags (!ENV, !relative, !!python/name)."""


_AnyTagLoader.add_multi_constructor("", lambda loader, suffix, node: None)
_AnyTagLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """mkdocs.yml as plain data (custom tags read as None); ConfigError when it cannot be read."""
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_AnyTagLoader) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot be read ({exc}); run from the project folder", str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"is not valid YAML ({getattr(exc, 'problem', exc)})", str(path), mark.line + 1 if mark else 0) from None
    except RecursionError:
        raise ConfigError("is nested too deeply to read; flatten its YAML", str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping of settings", str(path))
    return data


@functools.lru_cache(maxsize=32)
def _key_lines(path: str, mtime_ns: int) -> dict[tuple[str, ...], int]:
    """Every mapping key of the YAML file -> its 1-based line, by its path of keys."""
    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=_AnyTagLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return {}
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, prefix: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    here = prefix + (str(key.value),)
                    lines[here] = key.start_mark.line + 1
                    walk(value, here)

    if root is not None:
        walk(root, ())
    return lines


def key_line(path: str | os.PathLike[str] | None, keys: Iterable[str]) -> int:
    """The line of ``extra.demos.timeout`` (given as ("extra", "demos", "timeout")) in the file, or 0."""
    if not path:
        return 0
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return 0
    keys = tuple(keys)
    lines = _key_lines(str(path), mtime)
    while keys and keys not in lines:
        keys = keys[:-1]
    return lines.get(keys, 0)


class Section:
    """One mapping of settings (``extra.demos``), read key by key with the checks each value needs."""

    def __init__(self, value: Any, keys: tuple[str, ...], config_path: str | os.PathLike[str] | None):
        self.config_path = str(config_path) if config_path else CONFIG_NAME
        self.keys = keys
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise self.error((), f"must be a mapping of settings (key: value lines), not {value!r}")
        self.values = dict(value)

    def error(self, key: tuple[str, ...] | str, message: str) -> ConfigError:
        keys = self.keys + ((key,) if isinstance(key, str) else tuple(key))
        where = os.path.basename(self.config_path)
        return ConfigError(f"{'.'.join(keys)} {message}", where, key_line(self.config_path, keys))

    def number(self, key: str, default: float, *, low: float | None = None, high: float | None = None, whole: bool = False) -> Any:
        value = self.values.get(key, default)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
        if whole:
            ok = ok and float(value).is_integer()
        if ok and ((low is not None and value < low) or (high is not None and value > high)):
            ok = False
        if not ok:
            kind = "a whole number" if whole else "a number"
            bounds = []
            if low is not None:
                bounds.append(f"at least {low:g}")
            if high is not None:
                bounds.append(f"at most {high:g}")
            rule = f"{kind}{' ' + ' and '.join(bounds) if bounds else ''}"
            raise self.error(key, f"must be {rule}, not {value!r}")
        return int(value) if whole else float(value)

    def choice(self, key: str, default: str, choices: Iterable[str]) -> str:
        value = self.values.get(key, default)
        choices = tuple(choices)
        if not isinstance(value, str) or value.lower() not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return value.lower()

    def text(self, key: str, default: str | None) -> str | None:
        value = self.values.get(key, default)
        if value is not None and not isinstance(value, str):
            raise self.error(key, f"must be text, not {value!r}")
        if value is not None and "\0" in value:  # a path or URL with one is a ValueError deep in os or fsspec
            raise self.error(key, f"must not contain a NUL byte (\\0), as {value!r} does")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.values.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {value!r}")
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.values.get(key) or {}
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be a mapping of options, not {value!r}")
        return value
