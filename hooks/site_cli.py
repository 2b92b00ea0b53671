"""Commands behind `notes new` and `notes check`: scaffold a dated note, and report every problem of the sources."""
from __future__ import annotations

import datetime
import re
import unicodedata
from pathlib import Path
from typing import Iterable

import yaml

from hooks.graph import load_knowledge_base
from hooks.notes import NOTES_DIR
from hooks.problems import Problem

PLACEHOLDER = "Write what you learned here, and link each concept you mention with `[[Concept name]]`."


def slugify_title(title: str) -> str:
    """A file-name slug: ASCII, lowercase, words joined by hyphens ("Deep double descent!" -> "deep-double-descent")."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug or "note"


def note_template(title: str, date: datetime.date, tags: Iterable[str] = (), concepts: Iterable[str] = ()) -> str:
    """The Markdown of a new note: front matter, an H1, a 'Concepts:' line when given, a placeholder paragraph."""
    front = yaml.safe_dump(
        {"title": title, "date": date, "tags": list(tags)},
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=1000,
    )
    lines = ["---", front.rstrip("\n"), "---", "", f"# {title}", ""]
    concepts = [c.strip() for c in concepts if c.strip()]
    if concepts:
        lines += ["Concepts: " + ", ".join(f"[[{c}]]" for c in concepts), ""]
    lines += [PLACEHOLDER, ""]
    return "\n".join(lines)


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
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as handle:  # "x" raises FileExistsError if the note exists
        handle.write(note_template(title.strip(), date, tags, concepts))
    return path


def check_site(docs_dir: Path, project_root: Path) -> list[Problem]:
    """Every problem of the notes and concept pages under ``docs_dir``, sorted by file and line."""
    return sorted(load_knowledge_base(docs_dir, project_root).problems)
