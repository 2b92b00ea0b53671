"""What a cache entry may hold: its manifest's fields and types, its file names and sizes, and what an SVG may contain.

An entry comes from a run here, from a Dask worker or from a remote cache that anyone with write
access to the bucket can fill. Its checksums only say that its files are the ones its manifest
names, not that the manifest is honest, so every manifest is checked before an entry is installed
and whenever one is read (a bad one is treated as absent), and every figure is checked to be a
picture, not a program: no script, no event handler, no ``javascript:`` URL, no ``<foreignObject>``
and no reference outside the file (see :func:`svg_problem`). Nothing here imports more than the
standard library.
"""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import Any, Iterable

from hooks.figures.model import THEMES

MANIFEST = "manifest.json"
MAX_FILE_BYTES = 64 * 1024 * 1024  # one figure, data.json or source; more is a mistake or an attack
LOG_KEEP_BYTES = 256 * 1024  # a run's log keeps its first and its last this many bytes
MAX_LOG_BYTES = 2 * LOG_KEEP_BYTES + 1024  # both ends and the line that says how much was cut
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_ENTRY_BYTES = 256 * 1024 * 1024  # every file of an entry together
MAX_TEXT = 1000  # a text field of a manifest (device name, host, ...)

FIGURE_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")  # as spec.NAME_RE: a FIGURES key
FILE_NAME_RE = re.compile(r"^(?:[a-z][a-z0-9_]*(?:-narrow)?-(?:light|dark)\.svg|data\.json|log\.txt|source\.py|replaced\.json)$")
FINISHED_AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
KEY_RE = re.compile(r"^[0-9a-f]{8,64}$")
DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")
PARAMS_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
REPLACED = "replaced.json"  # in an entry: the key, date and data of the run it replaced (hooks.figures.numbers)
OPTIONAL_FILES = ("log.txt", "source.py", REPLACED)


def figure_files(figures: Iterable[str]) -> list[str]:
    """Every figure in both themes: ``NAME-light.svg``, ``NAME-dark.svg``."""
    return [f"{fig}-{theme}.svg" for fig in figures for theme in THEMES]


NARROW = "narrow"  # a figure's optional layout for a phone's width: NAME-narrow-light.svg, NAME-narrow-dark.svg


def narrow_files(figure: str) -> list[str]:
    """The narrow variant of one figure in both themes (optional: both or neither)."""
    return [f"{figure}-{NARROW}-{theme}.svg" for theme in THEMES]


def size_cap(file_name: str) -> int:
    """The most bytes ``file_name`` of an entry may hold."""
    return MAX_LOG_BYTES if file_name == "log.txt" else MAX_FILE_BYTES


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT and "\0" not in value


def _scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (bool, int)) or _text(value)


def _int_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


# field -> (required, check, what it must be)
_FIELDS: dict[str, tuple[bool, Any, str]] = {
    "key": (True, lambda v: isinstance(v, str) and bool(KEY_RE.match(v)), "a cache key"),
    "demo": (True, lambda v: isinstance(v, str) and bool(FIGURE_NAME_RE.match(v)), "a demo name"),
    "files": (True, lambda v: isinstance(v, dict), "a mapping of file names to SHA-256"),
    "figures": (True, lambda v: isinstance(v, list) and all(isinstance(f, str) and FIGURE_NAME_RE.match(f) for f in v),
                "a list of figure names"),
    "params_id": (True, lambda v: isinstance(v, str) and bool(PARAMS_ID_RE.match(v)), "a run folder name"),
    "seconds": (True, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0,
                "a number of seconds"),
    "finished_at": (True, lambda v: isinstance(v, str) and bool(FINISHED_AT_RE.match(v)), "a time as YYYY-MM-DDTHH:MM:SSZ"),
    "status": (False, lambda v: v == "ok", "'ok'"),
    "params": (False, lambda v: isinstance(v, dict) and all(_text(k) and _scalar(x) for k, x in v.items()), "a mapping of parameters"),
    "overrides": (False, lambda v: isinstance(v, dict) and all(_text(k) and _scalar(x) for k, x in v.items()), "a mapping of parameters"),
    "versions": (False, lambda v: isinstance(v, dict) and all(_text(k) and _text(x) for k, x in v.items()), "a mapping of versions"),
    "seed": (False, _int_or_none, "a whole number or null"),
    "key_material": (False, lambda v: isinstance(v, dict), "a mapping (what the key is a hash of)"),
    "reran_because": (False, lambda v: isinstance(v, list) and all(_text(x) for x in v), "a list of text"),
    "torch_threads": (False, _int_or_none, "a whole number or null"),
    **{name: (False, _text, "text") for name in ("source", "device", "device_name", "sandbox", "host", "worker")},
}


def manifest_problem(manifest: Any, name: str | None = None, key: str | None = None,
                     promised: Iterable[str] | None = None) -> str | None:
    """Why ``manifest`` cannot be an entry's (of demo ``name`` and ``key``), or None when it can.

    ``promised``: the figures the demo's FIGURES promise; the entry must hold each of them in both
    themes and nothing else but data.json, its log and its source. Without it (an entry read back
    from this machine's cache, whose demo may have changed since) any figure name is allowed.
    """
    if not isinstance(manifest, dict):
        return "it is not a JSON object"
    for field, (required, check, what) in _FIELDS.items():
        if field not in manifest:
            if required:
                return f"it has no '{field}'"
            continue
        if not check(manifest[field]):
            return f"its '{field}' must be {what}, not {str(manifest[field])[:60]!r}"
    if name is not None and manifest["demo"] != name:
        return f"it is the manifest of demo '{manifest['demo']}'"
    if key is not None and manifest["key"] != key:
        return "it names another key"
    files: dict = manifest["files"]
    for fname, digest in files.items():
        if not isinstance(fname, str) or not FILE_NAME_RE.match(fname):
            return f"it names a file {str(fname)[:60]!r} that an entry never holds"
        if not isinstance(digest, str) or not DIGEST_RE.match(digest):
            return f"the checksum of {fname} is malformed"
    figures = list(promised) if promised is not None else manifest["figures"]
    if promised is not None and sorted(set(manifest["figures"])) != sorted(set(figures)):
        return f"it lists the figures {', '.join(manifest['figures']) or 'none'}, not the {', '.join(figures)} the demo promises"
    required = figure_files(figures) + ["data.json"]
    missing = [f for f in required if f not in files]
    if missing:
        return f"it lacks {', '.join(missing)}"
    narrow = {name for fig in figures for name in narrow_files(fig)}
    extra = sorted(set(files) - set(required) - set(OPTIONAL_FILES) - narrow)
    if extra:
        return f"it holds {', '.join(extra)}, which the demo does not promise"
    for fig in figures:
        present = [name for name in narrow_files(fig) if name in files]
        if len(present) == 1:
            return f"it holds {present[0]} without the other theme's narrow variant"
    return None


# --- SVG -------------------------------------------------------------------------------------------

_FORBIDDEN_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener", "audio", "video"}
_REFERENCE_ATTRIBUTES = {"href", "src"}
_SAFE_REFERENCE = re.compile(r"^(?:#[^\s]*|data:image/(?:png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*)$")
_SCRIPT_URL = re.compile(r"(?:java|vb)script:|data:text/html|data:image/svg", re.I)
_CSS_DANGER = re.compile(r"@import|url\(\s*['\"]?\s*(?![\s'\"#])|expression\(|(?:java|vb)script:", re.I)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def svg_problem(data: bytes) -> str | None:
    """Why ``data`` is not an SVG that is safe to publish on the site's origin, or None when it is.

    Refused: anything that does not parse as XML with an ``<svg>`` root; entity declarations (an
    entity can hide any of what follows, or expand to gigabytes); a style sheet processing
    instruction; ``<script>``, ``<foreignObject>`` (HTML inside the picture) and other elements that
    embed or run something; any ``on...`` event handler attribute; a ``href`` or ``src`` that is
    not a fragment of the same file or an embedded PNG/JPEG/GIF (external references); and a
    ``javascript:`` URL or a CSS ``@import``/``url(...)`` to anything but a fragment anywhere in an
    attribute or a style. Matplotlib's SVGs pass: they reference only their own fragments.
    """
    if re.search(rb"<!ENTITY", data, re.I):
        return "it declares an XML entity"
    if re.search(rb"<\?xml-stylesheet", data, re.I):
        return "it loads a style sheet"
    try:
        root = ET.fromstring(data)
    except (ET.ParseError, ValueError) as exc:
        return f"it is not well-formed XML ({exc})"
    if _local(root.tag) != "svg":
        return f"its root element is <{_local(root.tag)}>, not <svg>"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = _local(element.tag)
        if tag in _FORBIDDEN_ELEMENTS:
            return f"it holds a <{tag}> element"
        if tag == "style" and element.text and _CSS_DANGER.search(element.text):
            return "its style sheet loads or runs something"
        for attribute, value in element.attrib.items():
            name = _local(attribute)
            if name.startswith("on"):
                return f"it has an event handler ({name}=)"
            compact = re.sub(r"\s+", "", value)
            if name in _REFERENCE_ATTRIBUTES and not _SAFE_REFERENCE.match(value.strip()):
                return f"it refers to something outside the file ({name}={value[:60]!r})"
            if _SCRIPT_URL.search(compact):
                return f"it has a script URL ({name}=)"
            if name == "style" and _CSS_DANGER.search(value):
                return "its style attribute loads or runs something"
    return None
