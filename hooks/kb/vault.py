"""What an Obsidian vault's own settings say about its files: daily notes and the folders never published.

Obsidian keeps its settings in ``.obsidian/`` at the vault's root, which is docs/ or the project's folder
(as for ``app.json``, :func:`hooks.site.line_breaks_shown`). Two of them matter to the site:

- ``daily-notes.json`` (``{"folder": "Daily", "format": "YYYY-MM-DD"}``): a page in that folder whose
  path matches the format is a daily note, dated by its name (moment.js tokens ``YYYY``, ``MM``, ``M``,
  ``DD``, ``D`` and literal text, ``[in brackets]`` or not a letter; a format with other tokens is not
  used, as the site cannot read it back);
- ``templates.json`` (``{"folder": "Templates"}``): the templates, which are never published.

``.obsidian/`` and ``.trash/`` (Obsidian's own wastebasket) are never published either.
"""
from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path

OBSIDIAN = ".obsidian"
ALWAYS_PRIVATE = (".obsidian/", ".trash/")
DEFAULT_DAILY_FORMAT = "YYYY-MM-DD"  # Obsidian's own default when the setting is empty
_TOKENS = {"YYYY": r"(?P<year>\d{4})", "MM": r"(?P<month>\d{2})", "M": r"(?P<month>\d{1,2})",
           "DD": r"(?P<day>\d{2})", "D": r"(?P<day>\d{1,2})"}


def format_pattern(fmt: str) -> re.Pattern[str] | None:
    """A moment.js date format as a regular expression with the groups year, month and day; None when
    the format holds a token the site does not read (weekday or month names, week numbers, ...) or
    lacks one of the three."""
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "[":
            end = fmt.find("]", i)
            if end == -1:
                return None
            out.append(re.escape(fmt[i + 1:end]))
            i = end + 1
            continue
        token = next((t for t in _TOKENS if fmt.startswith(t, i)), None)
        if token is not None:
            group = _TOKENS[token][4:_TOKENS[token].index(">")]
            seen = any(f"?P<{group}>" in part for part in out)
            out.append(f"(?P={group})" if seen else _TOKENS[token])  # YYYY/MM/YYYY-MM-DD: the same year twice
            i += len(token)
        elif fmt[i].isascii() and fmt[i].isalpha():  # another moment.js token: dddd, MMMM, Do, ww, ...
            return None
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    pattern = "".join(out)
    if not all(f"?P<{g}>" in pattern for g in ("year", "month", "day")):
        return None
    return re.compile(pattern)


@dataclass(frozen=True)
class Vault:
    """The vault's settings as paths in docs/ (folders without slashes at either end; None when unset)."""

    daily_folder: str | None = None  # None: no daily notes setting
    daily_format: str = DEFAULT_DAILY_FORMAT
    templates_folder: str | None = None

    @property
    def daily(self) -> tuple[str, str] | None:
        """What a page's kind and date depend on (part of the key its parse is kept under)."""
        return None if self.daily_folder is None else (self.daily_folder, self.daily_format)

    def daily_date(self, src_uri: str) -> datetime.date | None:
        """The date of the daily note at ``src_uri``, or None when it is not one."""
        if self.daily_folder is None or not src_uri.endswith(".md"):
            return None
        prefix = self.daily_folder + "/" if self.daily_folder else ""
        if not src_uri.startswith(prefix):
            return None
        pattern = format_pattern(self.daily_format)
        m = pattern.fullmatch(src_uri[len(prefix):-3]) if pattern is not None else None
        if m is None:
            return None
        try:
            return datetime.date(int(m.group("year")), int(m.group("month")), int(m.group("day")))
        except ValueError:
            return None

    def is_private(self, src_uri: str) -> bool:
        """Whether the file is Obsidian's own (settings, wastebasket) or a template: never published."""
        if src_uri.startswith(ALWAYS_PRIVATE):
            return True
        return bool(self.templates_folder) and (src_uri + "/").startswith(self.templates_folder + "/")


def _folder(value: object, prefix: str | None) -> str | None:
    """A folder setting of the vault as a path in docs/ (``prefix``: docs/ as a path in the vault)."""
    if not isinstance(value, str):
        return None
    folder = value.strip().strip("/")
    if prefix is None:
        return folder
    if folder == prefix.rstrip("/") or not folder.startswith(prefix):
        return "" if folder == prefix.rstrip("/") else None  # a folder outside docs/ holds no page of the site
    return folder[len(prefix):]


def _settings(vault: Path, name: str) -> dict | None:
    try:
        data = json.loads((vault / OBSIDIAN / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no such setting, or one Obsidian itself would not read
        return None
    return data if isinstance(data, dict) else None


def read_vault(docs_dir: Path, root: Path) -> Vault:
    """The settings of the vault whose ``.obsidian/`` is in docs/ or, failing that, in the project's folder."""
    for vault in (docs_dir, root):
        if not (vault / OBSIDIAN).is_dir():
            continue
        prefix = None
        if vault != docs_dir:
            try:
                prefix = docs_dir.resolve().relative_to(vault.resolve()).as_posix() + "/"
            except ValueError:
                continue
        daily = _settings(vault, "daily-notes.json")
        templates = _settings(vault, "templates.json")
        daily_folder = _folder(daily.get("folder", ""), prefix) if daily is not None else None
        daily_format = (daily or {}).get("format") or DEFAULT_DAILY_FORMAT
        return Vault(
            daily_folder=daily_folder,
            daily_format=daily_format if isinstance(daily_format, str) else DEFAULT_DAILY_FORMAT,
            templates_folder=(_folder(templates.get("folder"), prefix) or None) if templates is not None else None,
        )
    return Vault()
