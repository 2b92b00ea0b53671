"""``notes new``, ``notes today`` and ``notes concept``: scaffold a dated note, today's note or a concept
page from a template, never overwriting a file; say when a concept a note links has no page yet."""
from __future__ import annotations

import datetime
import difflib
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import yaml

from hooks.kb.notes import CONCEPT_PLACEHOLDER, CONCEPTS_DIR, NOTES_DIR, PLACEHOLDER, PageInfo
from hooks.kb.wikilinks import name_key
from hooks.problems import LocatedError

if TYPE_CHECKING:
    from hooks.kb.graph import KnowledgeBase

CONCEPT_TAG = "concept"  # the tag every page `notes concept` writes carries first
SUGGESTION_CUTOFF = 0.6  # difflib's ratio from which a concept's name is offered as "did you mean"


def slugify_title(title: str, default: str = "note") -> str:
    """A file-name slug: ASCII, lowercase, words joined by hyphens ("Deep double descent!" -> "deep-double-descent")."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug or default


def _front_matter(values: dict) -> str:
    return yaml.safe_dump(values, sort_keys=False, allow_unicode=True, default_flow_style=None, width=1000).rstrip("\n")


def _clean(texts: Iterable[str]) -> list[str]:
    """Texts stripped, empty ones and repeats left out, in order."""
    return list(dict.fromkeys(t.strip() for t in texts if t.strip()))


def note_template(title: str, date: datetime.date, tags: Iterable[str] = (), concepts: Iterable[str] = ()) -> str:
    """The Markdown of a new note: front matter, an H1, a 'Concepts:' line when given, a placeholder paragraph."""
    lines = ["---", _front_matter({"title": title, "date": date, "tags": list(tags)}), "---", "", f"# {title}", ""]
    concepts = _clean(concepts)
    if concepts:
        lines += ["Concepts: " + ", ".join(f"[[{c}]]" for c in concepts), ""]
    lines += [PLACEHOLDER, ""]
    return "\n".join(lines)


def concept_template(title: str, aliases: Iterable[str] = (), tags: Iterable[str] = ()) -> str:
    """The Markdown of a new concept page: front matter (tags start with 'concept'), an H1, a placeholder paragraph."""
    front = {"title": title, "aliases": _clean(aliases), "tags": _clean([CONCEPT_TAG, *tags])}
    return "\n".join(["---", _front_matter(front), "---", "", f"# {title}", "", CONCEPT_PLACEHOLDER, ""])


def _write_new(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as handle:  # "x" raises FileExistsError if the file exists
        handle.write(text)
    return path


def new_note(
    docs_dir: Path,
    title: str,
    date: datetime.date | None = None,
    tags: list[str] = (),
    concepts: list[str] = (),
) -> Path:
    """Write ``docs/notes/DATE-slug.md`` from the template and return its path; never overwrite a file."""
    if not title.strip():
        raise ValueError("a note needs a title")
    date = date or datetime.date.today()
    path = Path(docs_dir) / NOTES_DIR / f"{date.isoformat()}-{slugify_title(title)}.md"
    return _write_new(path, note_template(title.strip(), date, tags, concepts))


def notes_of_day(docs_dir: Path, date: datetime.date) -> list[Path]:
    """The notes of ``date`` in ``docs/notes/`` (``DATE-*.md``), by file name."""
    folder = Path(docs_dir) / NOTES_DIR
    return sorted(p for p in folder.glob(f"{date.isoformat()}-*.md") if p.is_file()) if folder.is_dir() else []


def daily_title(date: datetime.date) -> str:
    return f"Notes of {date.isoformat()}"


def new_concept(docs_dir: Path, title: str, aliases: list[str] = (), tags: list[str] = ()) -> Path:
    """Write ``docs/concepts/slug.md`` from the template and return its path; never overwrite a file."""
    if not title.strip():
        raise ValueError("a concept needs a name")
    path = Path(docs_dir) / CONCEPTS_DIR / f"{slugify_title(title, 'concept')}.md"
    return _write_new(path, concept_template(title.strip(), aliases, tags))


# --- names of concepts, as wikilinks find them -----------------------------------------------------

@dataclass(frozen=True)
class Clash:
    """A name a new concept would take that a page already has."""

    name: str  # as the new concept would have it (its file name said after its name)
    what: str  # what it is of the page that has it: "title", "alias" or "file name"
    page: PageInfo

    def __str__(self) -> str:
        article = "the" if self.what != "alias" else "an"
        title = f" ('{self.page.title}')" if self.what != "title" else ""
        return (f"{self.name} is already {article} {self.what} of {self.page.display_path}{title}; "
                f"link that page, or choose another name")


def _names(page: PageInfo) -> list[tuple[str, str]]:
    """(what, name) a page is found by in wikilinks and can be claimed by: a concept's title, aliases and
    file name; another page's title property and aliases (its file name belongs to its own folder)."""
    names = [("title", page.title)] if page.kind == "concept" or page.titled else []
    names += [("alias", alias) for alias in page.aliases]
    if page.kind == "concept":
        names.append(("file name", page.src_uri.rsplit("/", 1)[-1].removesuffix(".md")))
    return names


def concept_clash(kb: KnowledgeBase, title: str, aliases: Iterable[str] = ()) -> Clash | None:
    """The first existing page (a concept, published or draft, then any other page) that already has the
    title, file name or an alias a new concept would take, compared case-insensitively as wikilinks are."""
    title = title.strip()
    slug = slugify_title(title, "concept")
    wanted = [(f"'{title}'", title), (f"'{title}' (file name {slug}.md)", slug), *((f"the alias '{a.strip()}'", a) for a in aliases)]
    pages = [parsed.page for parsed in kb.parsed.values() if parsed.page is not None]
    pages.sort(key=lambda p: (p.kind != "concept", p.src_uri))
    for page in pages:
        if page.kind != "concept" and page.src_uri not in kb.pages:  # a draft note claims no name in the check
            continue
        taken: dict[str, str] = {}
        for what, name in _names(page):  # a title before an alias before a file name of the same key
            taken.setdefault(name_key(name), what)
        for shown, name in wanted:
            if name_key(name) and name_key(name) in taken:
                return Clash(shown, taken[name_key(name)], page)
    return None


def closest_concept(kb: KnowledgeBase, name: str) -> str | None:
    """The title of the published concept whose title or alias is closest to ``name`` (difflib), if any is close."""
    titles: dict[str, str] = {}
    for concept in kb.concepts:
        for candidate in (concept.title, *concept.aliases):
            titles.setdefault(name_key(candidate), concept.title)
    close = difflib.get_close_matches(name_key(name), list(titles), n=1, cutoff=SUGGESTION_CUTOFF)
    return titles[close[0]] if close else None


def concept_warning(kb: KnowledgeBase, name: str) -> str | None:
    """What is wrong with linking ``[[name]]`` as a concept: None when it finds one concept page (by
    title, alias or file name, case-insensitive, as wikilinks resolve), else a sentence naming ``name``."""
    found = kb.linker.names.lookup(name)
    if len(found) == 1 and kb.pages[found[0]].kind == "concept":
        return None
    close = closest_concept(kb, name)
    hint = f"; did you mean '{close}'?" if close else ""
    if len(found) > 1:
        listed = ", ".join(sorted(kb.pages[uri].display_path for uri in found))
        return f"[[{name}]] is ambiguous: it matches {listed}{hint or '; link one of them by its file name'}"
    if found:
        return f"'{name}' names {kb.pages[found[0]].display_path}, which is not a concept page{hint}"
    hidden = kb.linker.hidden.lookup(name)
    if hidden:
        shown = kb.linker.display.get(hidden[0], hidden[0])
        return f"'{name}' names {shown}; that page {kb.hidden.get(hidden[0], 'is not published')}{hint}"
    if close:
        return f"no concept page is named '{name}'{hint}"
    return f"no concept page named '{name}' exists yet; write it with notes concept \"{name}\" (the link works once it exists)"


# --- the commands ----------------------------------------------------------------------------------

def docs_folder(root: Path) -> Path:
    """The site's docs folder: mkdocs.yml's docs_dir (relative to the project), else docs/."""
    from hooks.config import read_config

    docs_dir = read_config(root / "mkdocs.yml").get("docs_dir")
    return root / (docs_dir if isinstance(docs_dir, str) and docs_dir.strip() else "docs")


def _shown(root: Path, path: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _warn_about_concepts(command: str, root: Path, concepts: list[str]) -> None:
    """One line on stderr for each concept that names no concept page; the note is written either way."""
    concepts = _clean(concepts)
    if not concepts:
        return
    from hooks.cli.check import site_plan

    try:
        kb = site_plan(root).kb
    except LocatedError as exc:  # mkdocs.yml cannot be read: the note is written, its links go unchecked
        print(f"notes {command}: warning: the concept names were not checked, {exc}", file=sys.stderr)
        return
    for name in concepts:
        warning = concept_warning(kb, name)
        if warning:
            print(f"notes {command}: warning: {warning}", file=sys.stderr)


def _write_note(command: str, root: Path, title: str, date: datetime.date | None, tags: list[str], concepts: list[str]) -> int:
    try:
        path = new_note(docs_folder(root), title, date, tags, concepts)
    except FileExistsError as exc:
        print(f"notes {command}: {_shown(root, Path(exc.filename)) if exc.filename else exc} already exists; "
              "pick another title or date", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"notes {command}: cannot write the note ({exc.strerror}); check the docs/notes folder", file=sys.stderr)
        return 1
    print(_shown(root, path))
    _warn_about_concepts(command, root, concepts)
    return 0


def cmd_new(root: Path, title: str, date: datetime.date | None, tags: list[str], concepts: list[str]) -> int:
    if not title.strip():
        print("notes new: the title is empty; give the note a title, e.g. notes new \"Reading the grokking paper\"", file=sys.stderr)
        return 2
    return _write_note("new", root, title, date, tags, concepts)


def cmd_today(root: Path, title: str | None, tags: list[str], concepts: list[str], today: datetime.date | None = None) -> int:
    """Today's note: its path when one exists (nothing written), else a new one titled "Notes of DATE"."""
    today = today or datetime.date.today()
    if title is not None and not title.strip():
        print("notes today: the title is empty; leave out --title for \"Notes of DATE\", or give one", file=sys.stderr)
        return 2
    existing = notes_of_day(docs_folder(root), today)
    if existing:
        for path in existing:
            print(_shown(root, path))
        if title is not None or tags or concepts:
            print("notes today: today's note exists, so nothing was written; add the tags and concepts to it yourself",
                  file=sys.stderr)
        return 0
    return _write_note("today", root, title or daily_title(today), today, tags, concepts)


def cmd_concept(root: Path, name: str, aliases: list[str], tags: list[str]) -> int:
    if not name.strip():
        print("notes concept: the name is empty; give the concept a name, e.g. notes concept \"Double descent\"", file=sys.stderr)
        return 2
    from hooks.cli.check import site_plan

    clash = concept_clash(site_plan(root).kb, name, _clean(aliases))
    if clash is not None:
        print(f"notes concept: {clash}", file=sys.stderr)
        return 1
    try:
        path = new_concept(docs_folder(root), name, aliases, tags)
    except FileExistsError as exc:
        print(f"notes concept: {_shown(root, Path(exc.filename)) if exc.filename else exc} already exists; "
              "choose another name, or edit that page", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"notes concept: cannot write the concept page ({exc.strerror}); check the docs/concepts folder", file=sys.stderr)
        return 1
    print(_shown(root, path))
    return 0
