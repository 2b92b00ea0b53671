"""The knowledge base a serve session updates from what changed equals the one a build makes anew.

Random sequences of a writer's edits (tests/test_fingerprints.py's Writer: notes and vault pages
created, edited, retitled, renamed, deleted, made drafts; links, embeds, block ids, tags, aliases); after
each, the site is planned with the session a serve keeps (its knowledge base updated when the edit allows,
hooks.kb.graph.build_knowledge_base with ``previous``) and with none (built anew), and every table of the
two knowledge bases must be equal. Replay a failing seed with ``NOTES_FINGERPRINT_SEED=<seed>``.
"""
from __future__ import annotations

import dataclasses
import random
import time
from pathlib import Path

import pytest

from hooks import site
from hooks.kb.graph import KnowledgeBase
from tests.conftest import write_site
from tests.test_fingerprints import SEEDS, STEPS, Writer, _load

COMPARED = [f.name for f in dataclasses.fields(KnowledgeBase) if f.name not in ("linker", "_derivation", "parsed")]


def differences(updated: KnowledgeBase, anew: KnowledgeBase) -> list[str]:
    out = [name for name in COMPARED if getattr(updated, name) != getattr(anew, name)]
    if {u: p.page for u, p in updated.parsed.items()} != {u: p.page for u, p in anew.parsed.items()}:
        out.append("parsed")
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_an_updated_knowledge_base_equals_one_built_anew(tmp_path: Path, seed: int) -> None:
    root = tmp_path / f"site-{seed}"
    root.mkdir()
    write_site(root)
    project, files = _load(root)
    session = site.Session(project.root)
    site.plan_site(project, files, session=session)
    writer, done, updated_steps = Writer(root, random.Random(seed)), [], 0
    for number in range(1, STEPS + 1):
        done.append(writer.step())
        time.sleep(0.002)
        project, files = _load(root)
        before = session.kb
        kb = site.plan_site(project, files, session=session).kb
        updated_steps += kb._derivation.names is before._derivation.names  # updated, not built anew
        anew = site.plan_site(project, files).kb
        wrong = differences(kb, anew)
        assert not wrong, f"seed {seed}, step {number} ({done[-1]}): {wrong} differ; edits so far: {done}"
    assert updated_steps >= STEPS // 5, f"only {updated_steps} of {STEPS} edits updated the knowledge base"


def test_a_text_edit_updates_the_knowledge_base_and_a_new_page_builds_it_anew(tmp_path: Path) -> None:
    """Which edits take which path: the update is the common one, not a rarity the test above may miss."""
    write_site(tmp_path)
    project, files = _load(tmp_path)
    session = site.Session(project.root)
    first = site.plan_site(project, files, session=session).kb
    note = next(p for p in sorted((tmp_path / "docs" / "notes").glob("*.md")) if p.name != "index.md")
    note.write_text(note.read_text(encoding="utf-8") + "\nOne more line, and a link to [[Nowhere yet]].\n", encoding="utf-8")
    project, files = _load(tmp_path)
    second = site.plan_site(project, files, session=session).kb
    assert second._derivation.names is first._derivation.names
    assert any(r.target is None and r.link.target == "Nowhere yet" for r in second.resolutions[f"notes/{note.name}"])
    (tmp_path / "docs" / "notes" / "2030-01-01-nowhere-yet.md").write_text("---\ntitle: Nowhere yet\n---\n\nNew.\n", encoding="utf-8")
    project, files = _load(tmp_path)
    third = site.plan_site(project, files, session=session).kb
    assert third._derivation.names is not second._derivation.names
    assert any(r.target == "notes/2030-01-01-nowhere-yet.md" for r in third.resolutions[f"notes/{note.name}"])
