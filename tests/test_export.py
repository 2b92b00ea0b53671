"""``notes export`` on tiny sites: the exported tree, built by plain MkDocs with no hooks, shows what the
hooked build shows (tests/articles.py says what is compared); writing is incremental; bad input is
reported as ``notes check`` reports it. The real site is exported in tests/e2e/test_export.py.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from hooks.cli.export import MANIFEST, export_tree, source_relative_html, write_tree
from hooks.cli.main import main
from hooks.config import read_config
from hooks.kb import fragments
from hooks.kb.reading import mark_links
from hooks.kb.graph import concept_map
from hooks.problems import errors
from hooks.urls import rebase_url
from tests.articles import differences
from tests.conftest import FIXTURES, build_site, check_site, plan_of, write_site

VAULT = FIXTURES / "obsidian" / "docs"
SECOND = "docs/notes/2024-02-10-second-note.md"
THIRD = "docs/notes/2024-03-05-third-note.md"


def export(root: Path, out: Path, flavour: str = "mkdocs"):
    """Export the project in ``root`` into ``out`` as the command does; what was written, unchanged, removed."""
    plan = plan_of(root)
    assert errors(plan.problems) == []
    tree = export_tree(plan, read_config(root / "mkdocs.yml"), flavour=flavour)
    return write_tree(tree.files, out)


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every file: a file written again gets a new inode (it is replaced atomically)."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


# --- the exported tree builds, without hooks, into the hooked site ------------------------------------

@pytest.mark.parametrize("docs", [None, VAULT], ids=["tiny", "obsidian-vault"])
def test_exported_tree_builds_without_hooks_into_the_same_articles(tmp_path, docs):
    root = tmp_path / "project"
    config = write_site(root) if docs is None else write_site(root, docs, nav=None)
    hooked = build_site(config)
    out = tmp_path / "export"
    export(root, out)
    exported_config = yaml.load((out / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.Loader)
    assert "hooks" not in exported_config
    assert "callouts" not in exported_config["plugins"]  # done by the export, so that any generator reads admonitions
    plain = build_site(out / "mkdocs.yml")  # --strict: every link the export wrote resolves
    assert differences(hooked, plain) == []
    assert sorted(p.relative_to(hooked).as_posix() for p in hooked.rglob("*") if p.is_file() and "search" not in p.parts) == \
        sorted(p.relative_to(plain).as_posix() for p in plain.rglob("*") if p.is_file() and "search" not in p.parts)


def test_exported_markdown_is_plain(tmp_path):
    root = tmp_path / "project"
    write_site(root)
    out = tmp_path / "export"
    export(root, out)
    second = (out / SECOND).read_text(encoding="utf-8")
    assert "[[" not in second.split("<!--", 1)[0]  # wikilinks resolved ...
    assert "](../concepts/trainability.md)" in second  # ... into relative .md links the generator checks
    assert "data-kb-preview='../../concepts/trainability/preview.json'" in second  # previews on links, through attr_list
    assert "<!-- kb:" not in second and '<div class="kb-backlinks">' in second  # generated lists as raw HTML
    assert not (out / "docs/notes/2024-04-01-unfinished.md").exists()  # the draft
    for generated in ("notes/index.md", "concepts/index.md", "concept-map.md", "feed.xml", "assets/kb/obsidian.js",
                      "notes/2024-02-10-second-note/preview.json"):
        assert (out / "docs" / generated).is_file(), generated


# --- incremental --------------------------------------------------------------------------------------

def test_exporting_again_rewrites_nothing_and_an_edit_rewrites_only_what_it_changes(tmp_path):
    root = tmp_path / "project"
    write_site(root)
    out = tmp_path / "export"
    first = export(root, out)
    assert first.written and not first.removed
    (out / "site").mkdir()
    (out / "site" / "index.html").write_text("a generator's output", encoding="utf-8")
    before = stamps(out)

    again = export(root, out)
    assert (again.written, again.removed) == ([], [])
    assert stamps(out) == before

    note = root / SECOND
    note.write_text(note.read_text(encoding="utf-8") + "\nOne more sentence at the end.\n", encoding="utf-8")
    edited = export(root, out)
    assert (edited.written, edited.removed) == ([SECOND], [])
    after = stamps(out)
    assert {path for path in before if after.get(path) != before[path]} == {SECOND, MANIFEST}  # the manifest holds its new hash

    (root / THIRD).unlink()  # a note deleted: its files go, the lists that showed it change, nothing else
    deleted = export(root, out)
    assert sorted(deleted.removed) == [THIRD, "docs/notes/2024-03-05-third-note/preview.json"]
    assert not (out / "docs/notes/2024-03-05-third-note").exists()
    assert "docs/notes/index.md" in deleted.written and "docs/feed.xml" in deleted.written
    assert "docs/concepts/inductive-bias.md" in deleted.written  # it was linked from there
    assert not any(path.startswith(("docs/assets/", "docs/notes/2024-01-23")) for path in deleted.written), deleted.written
    assert (out / "site" / "index.html").read_text(encoding="utf-8") == "a generator's output"  # not the export's


# --- bad input, and folders it must not write into -----------------------------------------------------

def _run(root: Path, monkeypatch, *args: str) -> int:
    monkeypatch.chdir(root)
    return main(["export", *args])


def test_errors_are_the_lines_notes_check_prints_and_nothing_is_written(tmp_path, monkeypatch, capsys):
    root = tmp_path / "project"
    write_site(root)
    (root / "docs/notes/2024-05-01-broken.md").write_text("---\ndate: 2024-05-01\ntittle: Oops\n---\n\nNo title.\n", encoding="utf-8")
    problems = check_site(root)
    assert errors(problems)
    assert _run(root, monkeypatch, "../export") == 1
    err = capsys.readouterr().err
    assert all(str(p) in err.splitlines() for p in problems)
    assert not (tmp_path / "export").exists()


def test_warnings_pass_and_stop_the_export_under_strict(tmp_path, monkeypatch, capsys):
    root = tmp_path / "project"
    write_site(root)
    (root / "docs/notes/2024-05-01-dangling.md").write_text(
        "---\ntitle: Dangling\ndate: 2024-05-01\n---\n\n# Dangling\n\nSee [[No such page]].\n", encoding="utf-8")
    assert _run(root, monkeypatch, "../strict", "--strict") == 1
    assert "No such page" in capsys.readouterr().err
    assert not (tmp_path / "strict").exists()
    assert _run(root, monkeypatch, "../export") == 0
    assert (tmp_path / "export" / MANIFEST).is_file()


def test_a_folder_it_did_not_write_and_the_docs_folder_are_refused(tmp_path, monkeypatch, capsys):
    root = tmp_path / "project"
    write_site(root)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep", encoding="utf-8")
    assert _run(root, monkeypatch, "../taken") == 2
    assert "did not write" in capsys.readouterr().err
    assert sorted(p.name for p in taken.iterdir()) == ["mine.txt"]
    assert _run(root, monkeypatch, "docs/out") == 2
    assert not (root / "docs" / "out").exists()


# --- the pieces -------------------------------------------------------------------------------------------

def test_finished_markdown_puts_the_header_under_the_title_and_fills_markers_outside_code(tmp_path):
    root = tmp_path / "project"
    write_site(root)
    plan = plan_of(root)
    note = "notes/2024-02-10-second-note.md"

    ctx = fragments.Context(plan.kb, plan.project.notes, concept_map=lambda: concept_map(plan.kb, 2))

    def finish(markdown: str) -> str:
        return fragments.finish(ctx, note, markdown, fragments.MarkdownOutput())

    header = fragments.render(ctx, note, "header")
    marker = fragments.LINKED_FROM
    out = finish(f"Before.\n\n# Title\n\n```\n{marker}\n```\n\n{marker}\n")
    assert out.index("# Title") < out.index(header) < out.index("```")
    assert f"```\n{marker}\n```" in out  # in code it stays as written
    assert out.count('<div class="kb-backlinks">') == 1 and f"\n\n{fragments.render(ctx, note, 'linked-from')}\n\n" in out
    setext = finish("Title\n=====\n\nText.\n")
    assert setext.startswith(f"Title\n=====\n\n{header}\n\nText.")
    assert finish("No title here.\n").startswith(header + "\n\n")


def test_urls_in_raw_html_for_zensical_are_relative_to_the_markdown_file():
    markdown = "\n".join([
        '<a href="../../tags/#t" data-kb-preview="../x/preview.json"><img src="../../demos/a.svg#only-light"></a>',
        '<svg><a xlink:href="../other/"></a></svg> <a href="https://example.org/">out</a> <a href="#here">here</a>',
        'Inline `<a href="../../code/">` stays.',
        "```html",
        '<a href="../../fenced/">',
        "```",
    ])
    out = source_relative_html(markdown, "concepts/foo.md", use_directory_urls=True).split("\n")
    assert out[0] == '<a href="../tags/#t" data-kb-preview="../x/preview.json"><img src="../demos/a.svg#only-light"></a>'
    assert out[1:] == markdown.split("\n")[1:]  # xlink:href, absolute URLs, anchors and code are left alone
    assert source_relative_html(markdown, "concepts/foo.md", use_directory_urls=False) == markdown


def test_rebase_url():
    assert rebase_url("../../tags/#t", "concepts/foo/", "concepts/foo.md") == "../tags/#t"
    assert rebase_url("../", "concepts/foo/", "concepts/foo.md") == "./"
    assert rebase_url("sub/a.png", "concepts/foo/", "concepts/foo.md") == "foo/sub/a.png"
    assert rebase_url("../demos/x.py", "demo-runs/", "demo-runs.md") == "demos/x.py"
    assert rebase_url("notes/x/", "", "index.md") == "notes/x/"
    for unchanged in ("#a", "https://x/y", "/abs", "../../../above-the-site"):
        assert rebase_url(unchanged, "a/b/", "a/b.md") == unchanged


def test_the_exported_config_keeps_the_project_settings_and_lists_no_hooks(tmp_path):
    root = tmp_path / "project"
    write_site(root, extra={"notes": {"feed_items": 2}, "analytics": {"provider": "none"}})
    out = tmp_path / "export"
    export(root, out)
    config = yaml.load((out / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.Loader)
    assert config["docs_dir"] == "docs" and config["site_url"] == "https://example.org/kb/"
    assert config["nav"] == read_config(root / "mkdocs.yml")["nav"]
    assert config["extra"] == {"analytics": {"provider": "none"}}  # the hooks' own settings are left out
    names = [next(iter(e)) if isinstance(e, dict) else e for e in config["markdown_extensions"]]
    assert {"attr_list", "md_in_html", "pymdownx.arithmatex", "hooks.kb.display_math", "pymdownx.superfences"} <= set(names)
    assert "assets/kb/obsidian.js" in config["extra_javascript"]
    assert "/notes/2024-02-10-second-note.md" in config["not_in_nav"].split()
    assert os.path.isfile(out / "docs" / "index.md")


def test_links_to_notes_and_concepts_carry_their_preview_in_markdown(tmp_path):
    root = tmp_path / "project"
    write_site(root)
    kb = plan_of(root).kb
    note = "notes/2024-02-10-second-note.md"
    previews = [("concepts/trainability.md", "concepts/trainability/", "concepts/trainability/preview.json")]
    preview = "{ data-kb-preview='../../concepts/trainability/preview.json' }"
    lines = [
        "See [Trainability](../concepts/trainability.md#why-it-matters) and [it](../concepts/trainability.md){ .cls }.",
        "An image ![x](../img/figure.png), the archive [notes](index.md), a site [page](https://example.org/a.md).",
        "In code: `[Trainability](../concepts/trainability.md)`.",
        "Here: [this note](2024-02-10-second-note.md#results).",
    ]
    out = mark_links("\n".join(lines), note, kb.urls[note], previews, markdown=True).split("\n")
    assert out[0] == ("See [Trainability](../concepts/trainability.md#why-it-matters)" + preview + " and "
                      "[it](../concepts/trainability.md){ .cls data-kb-preview='../../concepts/trainability/preview.json' }.")
    assert out[1:] == lines[1:]  # images, pages without a preview, other sites, code and the page itself: as written
