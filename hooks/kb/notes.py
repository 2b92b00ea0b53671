"""Every Markdown page, dated notes and concept pages: what kind a source is, its date and title, and its
front matter checked against a schema.

A page's kind: a concept in concepts/; a note in notes/ (its date in its file name and its ``date``
property, which must agree), or anywhere else when it is dated (a ``date`` property, a date at the start
of its file name, a daily note of the vault's settings, or a ``created`` property, in that order); any
other page is a page. Its title is its ``title`` property, else its file name, as Obsidian shows it
(a folder's ``index.md``: its first ``# `` heading, else the folder's name)."""
from __future__ import annotations

import datetime
import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from hooks.kb.sources import Source
from hooks.kb.vault import Vault
from hooks.markdown import DIRECTIVE_RE, Scan, plain_text, scan
from hooks.problems import Problem

Kind = Literal["note", "concept", "page"]

NOTES_DIR = "notes/"
CONCEPTS_DIR = "concepts/"
NOTE_NAME_RE = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})-(?P<slug>.+)\.md$")
DATED_NAME_RE = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[ _.-].*)?\.md$")  # a page dated by its name, anywhere
CSS_CLASS_RE = re.compile(r"^-?[_a-zA-Z][\w-]*$")

# Keys this project reads, per kind of page. Other keys are allowed (Obsidian and Material use many),
# but one that is close to a known key is reported as a misspelling.
NOTE_KEYS = ("title", "date", "tags", "aliases", "draft", "description")
CONCEPT_KEYS = ("title", "aliases", "tags", "draft", "description")
# Keys Material for MkDocs and MkDocs read: accepted anywhere, and checked for misspellings too.
THEME_KEYS = ("hide", "icon", "status", "subtitle", "template", "search", "comments")
# Obsidian's own properties the site reads: a date, Obsidian Publish's switch, classes for the page.
VAULT_KEYS = ("created", "publish", "cssclasses", "cssclass")
KNOWN_KEYS = frozenset(NOTE_KEYS + CONCEPT_KEYS + THEME_KEYS + VAULT_KEYS)
MISSPELLING_CUTOFF = 0.8


@dataclass
class PageInfo:
    """What the build knows about one Markdown source after its front matter was checked."""

    src_uri: str
    display_path: str
    kind: Kind
    title: str
    body: str
    body_line: int
    slug: str  # file name without the date prefix and ".md"
    date: datetime.date | None = None
    tags: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    draft: bool = False
    description: str = ""
    cssclasses: list[str] = field(default_factory=list)  # Obsidian's cssclasses: classes of the page's article
    titled: bool = False  # the title is the page's title property (else its file name, or an index.md's heading)
    title_line: int = 0  # line of the title (front matter key or H1); 0 when taken from the file name
    meta_lines: dict[str, int] = field(default_factory=dict)


def kind_of(src_uri: str) -> Kind:
    """The kind a page's folder gives it: notes live in notes/, concepts in concepts/ (an index.md there is
    a generated page, not content). A dated page elsewhere is a note too (:func:`check_page`)."""
    name = src_uri.rsplit("/", 1)[-1]
    if name == "index.md":
        return "page"
    if src_uri.startswith(NOTES_DIR):
        return "note"
    if src_uri.startswith(CONCEPTS_DIR):
        return "concept"
    return "page"


def first_h1(body: str, result: Scan | None = None) -> tuple[str, int] | None:
    """The text of the first level-1 heading of ``body`` outside code, and its 0-based line index.
    ``result``: the scan of ``body`` already made."""
    for heading in (result or scan(body)).headings:
        if heading.level == 1 and heading.text:
            return plain_text(heading.text), heading.line
    return None


def _misspelled_key(key: str) -> str | None:
    if key in KNOWN_KEYS:
        return None
    lowered = key.lower()
    if lowered in KNOWN_KEYS:
        return lowered
    close = difflib.get_close_matches(lowered, sorted(KNOWN_KEYS), n=1, cutoff=MISSPELLING_CUTOFF)
    return close[0] if close else None


def _parse_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _text_list(value: Any) -> list[str] | None:
    """A list of short texts; YAML numbers are taken as text. None when ``value`` is not such a list."""
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    return None


def _index_title(src_uri: str, h1: tuple[str, int] | None) -> str:
    """The title of a folder's index.md without a ``title``: its first ``# `` heading, else the folder's name."""
    if h1:
        return h1[0]
    folder = src_uri.rsplit("/", 1)[0] if "/" in src_uri else ""
    return folder.rsplit("/", 1)[-1] or "Home"


PLACEHOLDER = "Write what you learned here, and link each concept you mention with `[[Concept name]]`."  # notes new's
CONCEPT_PLACEHOLDER = ("Say here what this concept is, in a sentence or two, and link the concepts it builds on "
                       "with `[[Concept name]]`.")  # notes concept's


def check_page(source: Source, listed_as_draft: bool = False, result: Scan | None = None,
               vault: Vault | None = None) -> tuple[PageInfo | None, list[Problem]]:
    """Check one source's front matter against the schema of its kind.

    ``listed_as_draft``: the generator lists the file as a draft (MkDocs' ``draft_docs``), which
    the knowledge base treats like ``draft: true``. ``result``: the scan of the source's body already made.
    ``vault``: the vault's settings (its daily notes).

    Returns the page (None when the file cannot be read at all) and every problem found. A page with
    problems is still returned when it can be, so that its links can be checked too.
    """
    problems = list(source.problems)
    if not source.ok:
        return None, problems
    path = source.display_path
    kind = kind_of(source.src_uri)
    meta = source.meta
    lines = source.meta_lines

    def line_of(key: str) -> int:
        return lines.get(key, 1 if meta else 0)

    def error(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    name = source.src_uri.rsplit("/", 1)[-1]
    name_match = NOTE_NAME_RE.match(name) if kind == "note" else None
    slug = name_match.group("slug") if name_match else name.removesuffix(".md")  # a dated note's slug drops the date
    h1 = first_h1(source.body, result) if name == "index.md" else None
    info = PageInfo(
        src_uri=source.src_uri,
        display_path=path,
        kind=kind,
        title=_index_title(source.src_uri, h1) if name == "index.md" else name.removesuffix(".md"),  # as Obsidian shows it
        body=source.body,
        body_line=source.body_line,
        slug=slug,
        title_line=(source.body_line + h1[1]) if h1 else 0,
        meta_lines=dict(lines),
        draft=listed_as_draft,
    )

    if kind in ("note", "concept") and not source.text.strip():
        error(0, f"empty {kind}; write its front matter and text, or delete the file")
        return info, problems

    misspelled = set()
    for key in meta:
        meant = _misspelled_key(str(key))
        if meant:
            misspelled.add(meant)
            error(line_of(str(key)), f"unknown front matter key '{key}'; did you mean '{meant}'?")

    if meta.get("template") == "redirect.html":
        error(line_of("template"), "'template: redirect.html' makes the page a redirect; it is not allowed in notes, remove it")

    title = meta.get("title")
    if isinstance(title, (str, int, float)) and not isinstance(title, bool) and str(title).strip():
        info.title = str(title).strip()
        info.title_line = line_of("title")
        info.titled = True
    elif title is not None:
        error(line_of("title"), "'title' must be a single line of text")
    elif kind in ("note", "concept") and "title" not in misspelled:
        error(1 if meta else 0, f"missing 'title' in front matter; add a line 'title: ...' to this {kind}")

    if "tags" in meta:
        tags = _text_list(meta["tags"]) if meta["tags"] is not None else []
        if tags is None:
            error(line_of("tags"), "'tags' must be a list, e.g. tags: [optimisation, theory]")
        else:
            info.tags = tags
    if "aliases" in meta:
        raw = meta["aliases"]
        aliases = [str(raw).strip()] if isinstance(raw, (str, int, float)) and not isinstance(raw, bool) else _text_list(raw or [])
        if aliases is None:
            error(line_of("aliases"), "'aliases' must be a list of names, e.g. aliases: [SGD, stochastic gradient descent]")
        else:
            info.aliases = [a for a in aliases if a]
    if "draft" in meta:
        if isinstance(meta["draft"], bool):
            info.draft = info.draft or meta["draft"]
        else:
            error(line_of("draft"), "'draft' must be true or false")
    if "publish" in meta:  # Obsidian Publish's property: publish: false keeps a page out as draft: true does
        if isinstance(meta["publish"], bool):
            info.draft = info.draft or not meta["publish"]
        else:
            error(line_of("publish"), "'publish' must be true or false")
    if "description" in meta:
        if isinstance(meta["description"], str):
            info.description = " ".join(meta["description"].split())
        elif meta["description"] is not None:
            error(line_of("description"), "'description' must be text")
    for key in ("cssclasses", "cssclass"):
        if meta.get(key) is None:
            continue
        raw = meta[key]
        classes = raw.split() if isinstance(raw, str) else _text_list(raw)
        if classes is None or not all(CSS_CLASS_RE.match(c) for c in classes):  # the page is shown without them
            problems.append(Problem(path, line_of(key), f"'{key}' must be a list of CSS class names, e.g. {key}: [wide, cards]",
                                    "warning"))
        else:
            info.cssclasses += [c for c in classes if c not in info.cssclasses]

    if kind == "note":
        problems += _check_note_date(info, meta, report_missing="date" not in misspelled)
        if not source.body.strip():
            error(source.body_line, "empty note: it has front matter but no text; write something or delete the file")
        elif PLACEHOLDER in source.body:  # it would be the note's excerpt on the home page, the archive and the feed
            line = source.body_line + source.body[:source.body.index(PLACEHOLDER)].count("\n")
            problems.append(Problem(path, line, "the note still holds the placeholder sentence of `notes new` "
                                    "('Write what you learned here, ...'); replace it with the note's text", "warning"))
    elif kind == "concept" and CONCEPT_PLACEHOLDER in source.body:  # it would describe the concept in the concept index
        line = source.body_line + source.body[:source.body.index(CONCEPT_PLACEHOLDER)].count("\n")
        problems.append(Problem(path, line, "the concept still holds the placeholder sentence of `notes concept` "
                                "('Say here what this concept is, ...'); replace it with what the concept is", "warning"))
    elif kind == "page" and name != "index.md":
        date, date_problems = _page_date(info, meta, vault or Vault())
        problems += date_problems
        if date is not None:
            info.kind, info.date = "note", date
    return info, problems


def _page_date(info: PageInfo, meta: dict[str, Any], vault: Vault) -> tuple[datetime.date | None, list[Problem]]:
    """The date of a page outside notes/ and concepts/, which makes it a note: its ``date`` property, the
    date its file name starts with, the date of a daily note (the vault's settings), or its ``created``
    property, the first there is. A date that cannot be read is a warning, and the page stays undated."""
    problems = []
    for key in ("date", "created"):
        if meta.get(key) is not None and _parse_date(meta[key]) is None:
            line = info.meta_lines.get(key, 1)
            problems.append(Problem(info.display_path, line, f"{key} '{meta[key]}' cannot be parsed, so the page is not dated; "
                                    "write it as YYYY-MM-DD", "warning"))
    name_match = DATED_NAME_RE.match(info.src_uri.rsplit("/", 1)[-1])
    candidates = (
        _parse_date(meta.get("date")),
        _parse_date(name_match.group("date")) if name_match else None,
        vault.daily_date(info.src_uri),
        _parse_date(meta.get("created")),
    )
    return next((d for d in candidates if d is not None), None), problems


def _check_note_date(info: PageInfo, meta: dict[str, Any], report_missing: bool) -> list[Problem]:
    """A note's date: present, a calendar date, and the same as its file name's prefix. Sets ``info.date``."""
    problems = []
    name = info.src_uri.rsplit("/", 1)[-1]
    name_match = NOTE_NAME_RE.match(name)
    date_line = info.meta_lines.get("date", 1 if meta else 0)
    name_date = _parse_date(name_match.group("date")) if name_match else None
    if not name_match:
        problems.append(Problem(info.display_path, 0, f"a note's file name must start with its date: rename '{name}' to 'YYYY-MM-DD-{info.slug}.md'"))
    elif name_date is None:
        problems.append(Problem(info.display_path, 0, f"the date '{name_match.group('date')}' in the file name is not a calendar date; rename the file"))
    info.date = name_date
    if meta.get("date") is None:
        if report_missing:
            example = name_date.isoformat() if name_date else "2024-01-23"
            problems.append(Problem(info.display_path, date_line, f"missing 'date' in front matter; add a line 'date: {example}'"))
        return problems
    date = _parse_date(meta["date"])
    if date is None:
        problems.append(Problem(info.display_path, date_line, f"date '{meta['date']}' cannot be parsed; write it as YYYY-MM-DD"))
    elif name_date and date != name_date:
        message = f"date {date.isoformat()} disagrees with the file name ({name_date.isoformat()}); fix the date or rename the file"
        problems.append(Problem(info.display_path, date_line, message))
    info.date = date or name_date
    return problems


# --- plain text of Markdown, for excerpts and feed descriptions ------------------------------------

_SKIP_BLOCK = re.compile(r"^(#|<|\||!!!|\?\?\?|> \[!|!\[|---|\*\*\*|___|\{|concepts:|tags:)", re.I)


def excerpt(body: str, limit: int = 200, result: Scan | None = None) -> str:
    """The first paragraph of prose in ``body`` as plain text, cut at a word boundary near ``limit``.

    Blocks that are not prose are skipped: headings, code, math, HTML, tables, admonitions, callouts,
    images, directives and the "Concepts:" line of the note template. ``result``: the scan of ``body``
    already made.
    """
    result = result or scan(body)
    headings = result.heading_lines()
    paragraph: list[str] = []
    skipping = False
    for index, (line, kind) in enumerate(zip(result.lines, result.kinds)):
        stripped = line.strip()
        if paragraph and kind != "text":
            break
        if kind == "blank":
            skipping = False
            continue
        if kind != "text":
            continue
        if not paragraph and (skipping or index in headings or _SKIP_BLOCK.match(stripped) or DIRECTIVE_RE.match(line)):
            skipping = index not in headings  # a heading is one line; other blocks run to a blank line
            continue
        paragraph.append(stripped.lstrip(">").strip())
    text = plain_text(" ".join(paragraph))
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:.–—-") + "…"
