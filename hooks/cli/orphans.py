"""``notes orphans``: the notes that link no concept and the concepts no note links, read from the
knowledge base the build and ``notes check`` make (hooks.site.plan_site), drafts left out as the site leaves them."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hooks.kb.graph import KnowledgeBase
from hooks.kb.notes import PageInfo

NOTES_HEADING = "Notes that link no concept"
CONCEPTS_HEADING = "Concepts no note links"


@dataclass(frozen=True)
class Orphans:
    notes: list[PageInfo]  # newest first
    concepts: list[PageInfo]  # by title

    def as_data(self) -> dict[str, list[dict[str, str]]]:
        return {"notes_linking_no_concept": [_entry(p) for p in self.notes],
                "concepts_no_note_links": [_entry(p) for p in self.concepts]}

    def as_text(self) -> str:
        lines = [f"{NOTES_HEADING} ({len(self.notes)}):", *(p.display_path for p in self.notes),
                 f"{CONCEPTS_HEADING} ({len(self.concepts)}):", *(p.display_path for p in self.concepts)]
        return "\n".join(lines)


def _entry(page: PageInfo) -> dict[str, str]:
    return {"path": page.display_path, "title": page.title}


def orphans(kb: KnowledgeBase) -> Orphans:
    """The published notes whose links reach no concept page, and the concept pages no note links to."""
    return Orphans(notes=[n for n in kb.notes if not kb.concepts_of(n.src_uri)],
                   concepts=[c for c in kb.concepts if kb.note_count(c.src_uri) == 0])


def cmd_orphans(root: Path, as_json: bool = False) -> int:
    from hooks.cli.check import site_plan

    found = orphans(site_plan(root).kb)
    print(json.dumps(found.as_data(), indent=2, ensure_ascii=False) if as_json else found.as_text())
    return 0
