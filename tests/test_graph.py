"""The graph: backlinks, co-mentions, neighbours, drafts, name clashes; the pages, map and feed made from it."""
from __future__ import annotations


import feedparser
import pytest
from bs4 import BeautifulSoup

from hooks.kb import fragments, render
from hooks.kb.graph import KnowledgeBase, build_knowledge_base, concept_map
from hooks.kb.sources import parse_source


def note(date: str, slug: str, body: str, **meta) -> tuple[str, str]:
    front = "".join(f"{k}: {v}\n" for k, v in {"title": slug.replace("-", " ").title(), "date": date, **meta}.items())
    return f"notes/{date}-{slug}.md", f"---\n{front}---\n\n{body}\n"


def concept(slug: str, title: str, body: str = "Text.", aliases: str = "[]") -> tuple[str, str]:
    return f"concepts/{slug}.md", f"---\ntitle: {title}\naliases: {aliases}\n---\n\n# {title}\n\n{body}\n"


def kb_of(*files: tuple[str, str], images=()) -> KnowledgeBase:
    sources = [parse_source(uri, text.encode(), "docs/" + uri) for uri, text in files]
    return build_knowledge_base(sources, images)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return kb_of(
        concept("a", "Alpha", "See [[Beta]]."),
        concept("b", "Beta"),
        concept("c", "Gamma", aliases="[gamma rays]"),
        note("2024-01-01", "one", "[[Alpha]] and [[Beta]] and [[Alpha|again]]."),
        note("2024-02-01", "two", "[[Alpha]], [[Gamma]] and [[one]]."),
        note("2024-03-01", "three", "[[Alpha]], [[Beta]], [[gamma rays]] and [[Missing]]."),
        note("2024-04-01", "four", "[[Alpha]] in a draft.", draft="true"),
    )


def test_problems_are_collected_not_raised(kb):
    assert [(p.path, p.line, p.severity) for p in kb.problems] == [("docs/notes/2024-03-01-three.md", 6, "warning")]


def test_drafts_are_left_out(kb):
    assert kb.drafts == ["notes/2024-04-01-four.md"]
    assert "notes/2024-04-01-four.md" not in kb.pages
    assert "notes/2024-04-01-four.md" not in kb.backlinks["concepts/a.md"]


def test_notes_newest_first_and_neighbours(kb):
    assert [n.slug for n in kb.notes] == ["three", "two", "one"]
    assert kb.older == {"notes/2024-03-01-three.md": "notes/2024-02-01-two.md", "notes/2024-02-01-two.md": "notes/2024-01-01-one.md"}
    assert kb.newer["notes/2024-01-01-one.md"] == "notes/2024-02-01-two.md"
    assert "notes/2024-03-01-three.md" not in kb.newer


def test_links_are_unique_and_in_order(kb):
    assert kb.links["notes/2024-01-01-one.md"] == ["concepts/a.md", "concepts/b.md"]


def test_backlinks_notes_newest_first_then_concepts(kb):
    assert kb.backlinks["concepts/b.md"] == ["notes/2024-03-01-three.md", "notes/2024-01-01-one.md", "concepts/a.md"]
    assert kb.backlinks["notes/2024-01-01-one.md"] == ["notes/2024-02-01-two.md"]
    assert kb.note_count("concepts/a.md") == 3 and kb.note_count("concepts/b.md") == 2


def test_related_concepts_by_co_mentions(kb):
    assert kb.related["concepts/a.md"] == [("concepts/b.md", 2), ("concepts/c.md", 2)]
    assert kb.related["concepts/c.md"] == [("concepts/a.md", 2), ("concepts/b.md", 1)]


def test_name_clashes_and_duplicate_slugs():
    kb = kb_of(
        concept("a", "Alpha", aliases="[shared]"),
        concept("b", "Beta", aliases="[Shared]"),
        note("2024-01-01", "same", "x"),
        note("2024-02-01", "same", "y", title="Other"),
    )
    text = [str(p) for p in kb.problems]
    assert "docs/concepts/b.md:3: the alias 'Shared' is already the title or an alias of docs/concepts/a.md; a name must belong to one page, so change one of them" in text
    assert any(t.startswith("docs/notes/2024-02-01-same.md: two notes have the slug 'same'") for t in text)


def test_a_link_to_a_draft_is_unresolved():
    kb = kb_of(note("2024-01-01", "draft", "Not yet.", draft="true"), note("2024-01-02", "published", "See [[Draft]]."))
    (problem,) = kb.problems
    assert problem.severity == "warning" and "unresolved wikilink [[Draft]]" in problem.message and "draft" in problem.message.split(":", 1)[1]
    assert kb.links["notes/2024-01-02-published.md"] == []


def test_headings_of_a_page_are_computed_once(monkeypatch):
    import hooks.kb.graph

    calls = []
    real = hooks.kb.graph.extract_headings
    monkeypatch.setattr(hooks.kb.graph, "extract_headings", lambda body, *a: calls.append(body) or real(body, *a))
    kb = kb_of(concept("a", "Alpha", "## Part"), *(note(f"2024-01-{d:02d}", f"n{d}", "[[Alpha#part]]") for d in range(1, 11)))
    assert not kb.problems and len(calls) == 1


def test_what_a_source_says_is_derived_once_per_version():
    from hooks.kb.graph import ParseCache

    cache = ParseCache()
    sources = [parse_source(uri, text.encode(), "docs/" + uri) for uri, text in (concept("a", "Alpha"), note("2024-01-01", "one", "[[Alpha]]"))]
    first = build_knowledge_base(sources, cache=cache)
    again = build_knowledge_base(sources, cache=cache)
    assert all(again.parsed[uri] is first.parsed[uri] for uri in first.parsed)
    edited = [sources[0], parse_source(sources[1].src_uri, note("2024-01-01", "one", "[[Alpha]] again")[1].encode(), "docs/x")]
    third = build_knowledge_base(edited, cache=cache)
    assert third.parsed["concepts/a.md"] is first.parsed["concepts/a.md"]
    assert third.parsed["notes/2024-01-01-one.md"] is not first.parsed["notes/2024-01-01-one.md"]


def _session_build(root, files: dict[str, str], drafts: frozenset = frozenset()):
    """One session's build of ``files`` (src_uri -> text, written under root/docs) with the archive of
    hooks.kb.archive in root/.kb-cache: (knowledge base, archive) after the archive was saved."""
    from hooks.kb.archive import FILE, Archive
    from hooks.kb.graph import ParseCache
    from hooks.kb.sources import SourceFile, SourceStore

    listed = []
    for uri, text in files.items():
        path = root / "docs" / uri
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        listed.append(SourceFile(uri, str(path), "docs/" + uri, "draft" if uri in drafts else "included"))
    archive = Archive(root / FILE)
    kb = build_knowledge_base(SourceStore(archive).load(listed), statuses={f.src_uri: f.status for f in listed},
                              cache=ParseCache(archive))
    archive.save()
    return kb, archive


def test_a_new_session_takes_unchanged_sources_from_the_archive_and_parses_only_what_changed(tmp_path, monkeypatch):
    import hooks.kb.archive
    import hooks.kb.graph
    import hooks.kb.sources

    reads, parses = [], []
    real_read, real_parse = hooks.kb.sources.parse_source, hooks.kb.graph.parse
    monkeypatch.setattr(hooks.kb.sources, "parse_source", lambda uri, *a: reads.append(uri) or real_read(uri, *a))
    monkeypatch.setattr(hooks.kb.graph, "parse", lambda source, *a: parses.append(source.src_uri) or real_parse(source, *a))
    files = dict([concept("a", "Alpha", "## Part\n\nSee [[Beta]]."), concept("b", "Beta"),
                  note("2024-01-01", "one", "[[Alpha#part]] and #tag"), note("2024-01-02", "two", "[[Nowhere]]")])
    first, archive = _session_build(tmp_path, files)
    assert len(reads) == len(parses) == 4 and archive.misses == 8 and (tmp_path / ".kb-cache/parsed.json").is_file()

    reads.clear(), parses.clear()
    again, archive = _session_build(tmp_path, files)
    assert reads == parses == [] and archive.hits == 8
    assert [(p.title, p.date, p.tags) for p in again.pages.values()] == [(p.title, p.date, p.tags) for p in first.pages.values()]
    assert again.links == first.links and again.backlinks == first.backlinks and again.problems == first.problems
    assert again.resolutions["notes/2024-01-01-one.md"][0].anchor == "part"  # headings' ids are made anew, not archived

    edited = dict(files, **dict([note("2024-01-02", "two", "Now [[Beta]].")]))
    third, _ = _session_build(tmp_path, edited)
    assert reads == parses == ["notes/2024-01-02-two.md"]
    assert third.backlinks["concepts/b.md"] == ["notes/2024-01-02-two.md", "concepts/a.md"] and not third.problems

    reads.clear(), parses.clear()
    fourth, _ = _session_build(tmp_path, edited, drafts=frozenset({"notes/2024-01-01-one.md"}))  # listed as a draft now
    assert reads == [] and parses == ["notes/2024-01-01-one.md"] and "notes/2024-01-01-one.md" not in fourth.pages

    reads.clear(), parses.clear()
    monkeypatch.setattr(hooks.kb.archive, "code_version", lambda: "other code")  # another version of the project
    _session_build(tmp_path, edited)
    assert len(reads) == len(parses) == 4


def test_a_damaged_archive_is_read_as_empty_and_replaced(tmp_path):
    files = dict([concept("a", "Alpha"), note("2024-01-01", "one", "[[Alpha]]")])
    _session_build(tmp_path, files)
    archived = tmp_path / ".kb-cache/parsed.json"
    archived.write_bytes(archived.read_bytes()[:100])  # cut short, as by a full disk
    kb, archive = _session_build(tmp_path, files)
    assert archive.hits == 0 and archive.misses == 4 and kb.backlinks["concepts/a.md"] == ["notes/2024-01-01-one.md"]
    _, archive = _session_build(tmp_path, files)
    assert archive.hits == 4 and archive.misses == 0
    assert sorted(p.name for p in archived.parent.iterdir()) == ["parsed.json"]  # written beside it, then renamed


# --- generated pages: Markdown first, lists filled in as HTML after it -------------------------------

def html_of(markdown_text: str) -> BeautifulSoup:
    import markdown

    return BeautifulSoup(markdown.markdown(markdown_text, extensions=["attr_list", "md_in_html", "toc"]), "html.parser")


def rendered(kb, src_uri: str, markdown_text: str, **kw) -> BeautifulSoup:
    """A page as the build makes it: page_markdown, Python-Markdown, its sections, then its fragments filled."""
    import markdown

    extensions = ["attr_list", "md_in_html", "toc"]
    ctx = fragments.Context(kb, fragments.Settings(newest_on_home=kw.pop("newest", 2)), concept_map=kw.pop("cmap", lambda: concept_map(kb, 2)))
    if src_uri in kb.pages:
        markdown_text = render.page_markdown(render.read_page_links(kb, src_uri, markdown_text, {}), markdown_text)
    html = markdown.markdown(markdown_text, extensions=extensions)
    html, _ = fragments.append_sections(ctx, src_uri, html, fragments.HtmlOutput(fragments.SectionHeadings(extensions, {})))
    return BeautifulSoup(fragments.finish(ctx, src_uri, html, fragments.HtmlOutput()), "html.parser")


def map_html(kb, cmap, from_uri: str) -> str:
    return fragments.concept_map_html(cmap, {n.src_uri: kb.href(n.src_uri, from_uri) for n in cmap.nodes})


def test_a_generated_heading_gets_an_id_of_its_own_where_the_page_has_one_like_it(kb):
    soup = rendered(kb, "concepts/b.md", "# Beta\n\n## Linked from\n\nThe author's own section.\n")
    assert [h["id"] for h in soup.find_all("h2")] == ["linked-from", "linked-from_1", "related-concepts", "local-graph"]
    assert soup.find("h2", id="linked-from_1").find_next("div")["class"] == ["kb-backlinks"]


def test_notes_index_groups_by_year_and_month(kb):
    soup = rendered(kb, "notes/index.md", render.notes_index(kb))
    assert [h.get_text() for h in soup.find_all(["h2", "h3"])] == ["2024", "March 2024", "February 2024", "January 2024"]
    first = soup.find("li")
    assert first.find("time")["datetime"] == "2024-03-01"
    assert first.find("a")["href"] == "2024-03-01-three/"
    assert [a["href"] for a in first.select(".kb-concepts a")] == ["../concepts/a/", "../concepts/b/", "../concepts/c/"]
    assert "Alpha, Beta, gamma rays and Missing." in first.get_text()


def test_concepts_index_counts_notes(kb):
    items = [(li.a["href"], li.select_one(".kb-count").get_text()) for li in html_of(render.concepts_index(kb)).find_all("li")]
    assert items == [("a/", "3 notes"), ("b/", "2 notes"), ("c/", "2 notes")]
    about = [li.select_one(".kb-concept-about") for li in html_of(render.concepts_index(kb)).find_all("li")]
    assert [a.get_text() for a in about] == ["See Beta.", "Text.", "Text."]  # each concept's first sentence


def test_pages_get_their_sections_as_html(kb):
    alpha = rendered(kb, "concepts/a.md", "# Alpha\n\nSee [[Beta]].\n")
    assert alpha.find("a", string="Beta")["href"] == "b.md"  # a Markdown link, which MkDocs checks and rewrites
    soup = rendered(kb, "concepts/b.md", "# Beta\n")
    assert [h.get_text() for h in soup.find_all("h2")] == ["Linked from", "Related concepts", "Local graph"]
    assert [a["href"] for a in soup.select(".kb-backlinks a")] == ["../../notes/2024-03-01-three/", "../../notes/2024-01-01-one/", "../a/"]
    notes = soup.select_one("h1 + nav.kb-concept-notes")  # the notes about it, under its title (no tags: no meta line)
    assert notes.p.get_text() == "In 2 notes:"
    assert [(li.time["datetime"], li.a["href"]) for li in notes.select("li")] == [
        ("2024-03-01", "../../notes/2024-03-01-three/"), ("2024-01-01", "../../notes/2024-01-01-one/")]
    assert notes.select("p a")[-1]["href"] == "#linked-from" and soup.find(id="linked-from")  # every page linking it
    middle = rendered(kb, "notes/2024-02-01-two.md", "# Two\n\nx")
    assert [a["href"] for a in middle.select(".kb-pager a")] == ["../2024-01-01-one/", "../2024-03-01-three/"]
    assert middle.select_one(".kb-page-meta time")["datetime"] == "2024-02-01"
    home = rendered(kb, "index.md", "<!-- kb:newest -->\n", newest=1)
    assert [a["href"] for a in home.select("li > a")] == ["notes/2024-03-01-three/"]


def test_markers_are_replaced_only_on_their_own_line(kb):
    soup = rendered(kb, "index.md", "`<!-- kb:concept-map -->`\n\n<!-- kb:concept-map -->\n", cmap=lambda: concept_map(kb, 1))
    assert soup.find("code").get_text() == "<!-- kb:concept-map -->"
    assert len(soup.select(".kb-map")) == 1


def test_what_a_pages_fragments_read_changes_with_what_the_page_shows(kb):
    def data(kb, uri):
        return fragments.page_data(fragments.Context(kb), uri, kb.pages[uri].body)

    before = data(kb, "concepts/b.md")
    assert before == data(kb, "concepts/b.md")
    retitled = kb_of(
        concept("a", "Alpha", "See [[Beta]]."),
        concept("b", "Beta"),
        concept("c", "Gamma", aliases="[gamma rays]"),
        note("2024-01-01", "one", "[[Alpha]] and [[Beta]] and [[Alpha|again]].", title="One, renamed"),
        note("2024-02-01", "two", "[[Alpha]], [[Gamma]] and [[one]]."),
        note("2024-03-01", "three", "[[Alpha]], [[Beta]], [[gamma rays]] and [[Missing]]."),
    )
    assert data(retitled, "concepts/b.md") != before  # its backlinks show the new title
    assert data(retitled, "concepts/c.md") == data(kb, "concepts/c.md")


# --- the concept map -------------------------------------------------------------------------------

def test_concept_map_members_edges_and_stability(kb):
    cmap = concept_map(kb, map_notes=2)
    assert [(n.kind, n.title) for n in cmap.nodes] == [
        ("concept", "Alpha"), ("concept", "Beta"), ("concept", "Gamma"), ("note", "Three"), ("note", "Two"),
    ]
    titles = {i: n.title for i, n in enumerate(cmap.nodes)}
    edges = {frozenset((titles[a], titles[b])) for a, b in cmap.edges}
    assert frozenset(("Alpha", "Beta")) in edges and frozenset(("Three", "Gamma")) in edges
    assert all(0 <= n.x <= cmap.width and 0 <= n.y <= cmap.height for n in cmap.nodes)
    assert all(round(n.x, 1) == n.x for n in cmap.nodes)
    svg = map_html(kb, cmap, "concept-map.md")
    assert svg == map_html(kb, concept_map(kb, map_notes=2), "concept-map.md")


def test_the_map_laid_out_in_its_own_process_is_the_map_laid_out_here(kb):
    from hooks.kb.graph import lay_out, map_graph
    from hooks.kb.map_worker import LayoutWorker

    graph, smaller = map_graph(kb, map_notes=2), map_graph(kb, map_notes=1)
    worker = LayoutWorker()
    try:
        worker.submit(graph)
        process = worker._proc
        assert process is not None  # it did start a process
        assert worker.result() == lay_out(graph) == concept_map(kb, map_notes=2)
        assert worker.result().narrow is not None
        worker.submit(smaller)  # the same process lays out the next map (as under serve)
        assert worker.result() == lay_out(smaller) != lay_out(graph) and worker._proc is process
        worker.submit(graph)
        worker.submit(smaller)  # an answer nobody took is dropped, not taken for the next one
        assert worker.result() == lay_out(smaller) and worker._proc is process
        worker._proc.kill()  # a worker that dies: the layout is made here instead, and the next one has a new process
        worker.submit(graph)
        assert worker.result() == lay_out(graph)
        worker.submit(smaller)
        assert worker._proc is not None and worker._proc is not process
        assert worker.result() == lay_out(smaller)
    finally:
        worker.close()
    assert worker._proc is None


def test_concept_map_svg(kb):
    svg = BeautifulSoup(map_html(kb, concept_map(kb, map_notes=1), "index.md"), "html.parser")
    root = svg.find("svg")
    assert "3 concepts and 1 note" in root["aria-label"]
    nodes = root.find_all("a")
    assert [a.find("title").get_text() for a in nodes] == ["Alpha", "Beta", "Gamma", "Three"]
    assert nodes[0]["xlink:href"] == "concepts/a/" and "kb-map-concept" in nodes[0]["class"] and nodes[0].find("circle")
    assert "kb-map-note" in nodes[3]["class"] and nodes[3].find("rect") and not nodes[3].find("circle")


def test_empty_map():
    empty = kb_of()
    assert "No concepts yet" in map_html(empty, concept_map(empty, map_notes=5), "index.md")


# --- the feed --------------------------------------------------------------------------------------

def test_feed_is_valid_rss_dated_by_the_notes(kb):
    xml = render.feed_xml(kb, title="T & co", site_url="https://example.org/kb", description="", items=2)
    feed = feedparser.parse(xml)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "T & co"
    assert [e.title for e in feed.entries] == ["Three", "Two"]
    assert feed.entries[0].link == "https://example.org/kb/notes/2024-03-01-three/"
    assert feed.entries[0].id == feed.entries[0].link
    assert tuple(feed.entries[0].published_parsed[:3]) == (2024, 3, 1)
    assert feed.entries[0].summary.startswith("Alpha, Beta")
    assert xml == render.feed_xml(kb, title="T & co", site_url="https://example.org/kb", description="", items=2)


# --- every page of a vault ---------------------------------------------------------------------------

def test_every_page_is_a_node_but_the_hubs():
    vault = kb_of(
        concept("a", "Alpha"),
        ("index.md", "# Home\n\n[[Séance 1]] and [[Alpha]].\n"),
        ("tags.md", "# Tags\n\n<!-- kb:tags -->\n\n[[Séance 1]]\n"),
        ("Cours/Séance 1.md", "About [[Alpha]].\n"),
        ("Autre cours/Séance 2.md", "After [[Cours/Séance 1]].\n"),
        ("Daily/2024-05-01.md", "Read [[Séance 2]].\n"),
        ("Private.md", "---\npublish: false\n---\n[[Séance 1]]\n"),
    )
    assert vault.problems == []
    assert vault.hubs == {"index.md", "tags.md"} and vault.is_node("Cours/Séance 1.md") and not vault.is_node("index.md")
    assert [n.src_uri for n in vault.notes] == ["Daily/2024-05-01.md"]  # dated by its name, in any folder
    assert vault.backlinks["Cours/Séance 1.md"] == ["Autre cours/Séance 2.md"]  # not the hubs, not the unpublished page
    assert vault.backlinks["concepts/a.md"] == ["Cours/Séance 1.md"]
    assert vault.pages["Cours/Séance 1.md"].title == "Séance 1"


def test_pages_of_a_vault_may_share_a_title_and_a_link_by_it_is_ambiguous():
    vault = kb_of(("A/Intro.md", "---\ntitle: Introduction\n---\nText.\n"), ("B/Intro.md", "---\ntitle: Introduction\n---\nText.\n"),
                  ("C.md", "[[Introduction]] and [[A/Intro]].\n"))
    assert [(p.path, p.severity) for p in vault.problems] == [("docs/C.md", "error")]
    assert "ambiguous wikilink [[Introduction]]" in vault.problems[0].message
    assert vault.links["C.md"] == ["A/Intro.md"]
    clash = kb_of(concept("a", "Introduction"), ("B/Intro.md", "---\ntitle: Introduction\n---\nText.\n"))
    assert [p.path for p in clash.problems] == ["docs/B/Intro.md"]  # a concept's title stays its own


def test_a_wikilink_to_an_attachment_links_to_the_file():
    vault = kb_of(("A.md", "[[slides.pdf]], [[2024/data.csv|data]] and [[missing.pdf]].\n"),
                  images=["attachments/slides.pdf", "2024/data.csv", "2023/data.csv"])
    targets = [r.target for r in vault.resolutions["A.md"]]
    assert targets == ["attachments/slides.pdf", "2024/data.csv", None]
    assert [p.severity for p in vault.problems] == ["warning"]


def test_a_knowledge_base_is_freed_as_soon_as_it_is_replaced():
    """No knowledge base is part of a reference cycle (its linker holds its tables, not it): under serve
    the collector's passes skip what the session keeps (hooks.serve_speedups), so a knowledge base a save
    replaces must go when its last reference does, or every save would keep one more until a full pass."""
    import gc
    import weakref

    from hooks.kb.graph import ParseCache

    cache = ParseCache()
    sources = [parse_source(uri, text.encode(), "docs/" + uri) for uri, text in (
        concept("a", "Alpha"), note("2024-01-01", "one", "[[Alpha]] and [[one#Heading]]\n\n## Heading\n"))]
    first = build_knowledge_base(sources, cache=cache)
    edited = [sources[0], parse_source(sources[1].src_uri, note("2024-01-01", "one", "[[Alpha]] again")[1].encode(), "docs/x")]
    second = build_knowledge_base(edited, cache=cache, previous=first)  # updated from the first, as a save does
    assert second is not first and second.linker.resolve is not None
    gone = weakref.ref(first)
    gc.disable()
    try:
        del first
        assert gone() is None, "the replaced knowledge base is kept alive by a reference cycle"
    finally:
        gc.enable()
