"""``notes new``: scaffold a dated note from a template, never overwriting a file."""
from __future__ import annotations

import datetime
import re
import sys
import unicodedata
from pathlib import Path
from typing import Iterable

import yaml

from hooks.kb.notes import NOTES_DIR, PLACEHOLDER


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


def cmd_new(root: Path, title: str, date: datetime.date | None, tags: list[str], concepts: list[str]) -> int:
    if not title.strip():
        print("notes new: the title is empty; give the note a title, e.g. notes new \"Reading the grokking paper\"", file=sys.stderr)
        return 2
    try:
        path = new_note(root / "docs", title, date, tags, concepts)
    except FileExistsError as exc:
        print(f"notes new: {exc.filename or exc} already exists; pick another title or date", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"notes new: cannot write the note ({exc.strerror}); check the docs/notes folder", file=sys.stderr)
        return 1
    print(path.relative_to(root) if path.is_relative_to(root) else path)
    return 0
