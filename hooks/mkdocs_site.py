"""MkDocs hooks for the knowledge base: a thin adapter over hooks.graph and hooks.render.

on_pre_build reads and checks every source once and builds the graph; on_files drops drafts and adds
the generated pages and the feed; on_page_markdown resolves wikilinks and appends backlinks with
dictionary lookups only. State is rebuilt on every build because `mkdocs serve` keeps this module loaded.
"""
from __future__ import annotations

import html
import sys
from dataclasses import dataclass, field
from pathlib import Path

_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
if _PROJECT_ROOT not in sys.path:  # MkDocs loads hook files by path; the hooks package lives beside this file
    sys.path.insert(0, _PROJECT_ROOT)

from mkdocs.config.defaults import MkDocsConfig  # noqa: E402
from mkdocs.exceptions import PluginError  # noqa: E402
from mkdocs.plugins import get_plugin_logger  # noqa: E402
from mkdocs.structure.files import File, Files, InclusionLevel  # noqa: E402
from mkdocs.structure.pages import Page  # noqa: E402
from mkdocs.utils import get_relative_url  # noqa: E402

from hooks import render  # noqa: E402
from hooks.graph import FEED, ConceptMap, KnowledgeBase, concept_map, load_knowledge_base  # noqa: E402
from hooks.problems import errors  # noqa: E402

log = get_plugin_logger("notes")

DEFAULTS = {"feed_items": 50, "newest_on_home": 5, "map_notes": 40}
REQUIRED_EXTENSIONS = ("attr_list", "md_in_html")  # image widths and the classed blocks the pages use


@dataclass
class _Build:
    kb: KnowledgeBase
    settings: dict[str, int]
    urls: dict[str, str] = field(default_factory=dict)  # src_uri -> URL of each page in the site
    layout: ConceptMap | None = None


_build: _Build | None = None


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    global _build
    _build = None
    for extension in REQUIRED_EXTENSIONS:
        if not any(isinstance(e, str) and e.endswith(extension) for e in config.markdown_extensions):
            config.markdown_extensions.append(extension)
    return config


def on_pre_build(config: MkDocsConfig) -> None:
    global _build
    _build = None
    settings = _settings(config)
    root = Path(config.config_file_path).parent if config.config_file_path else Path(config.docs_dir).parent
    toc = config.mdx_configs.get("toc", {})
    kwargs = {k: toc[k] for k in ("slugify", "separator") if k in toc}
    kb = load_knowledge_base(config.docs_dir, root, **kwargs)
    failing = kb.problems if config.strict else errors(kb.problems)
    if failing:
        raise PluginError(f"{len(failing)} problem(s) in the notes:\n" + "\n".join(str(p) for p in failing))
    for problem in kb.problems:
        log.warning(str(problem))
    _build = _Build(kb, settings)


def _settings(config: MkDocsConfig) -> dict[str, int]:
    """``extra.notes`` of mkdocs.yml over the defaults; a value that is not a whole number stops the build."""
    given = config.extra.get("notes") or {}
    if not isinstance(given, dict):
        raise PluginError("extra.notes in mkdocs.yml must be a mapping, e.g. 'feed_items: 50'")
    settings = dict(DEFAULTS)
    for key in DEFAULTS.keys() & given.keys():
        if not isinstance(given[key], int) or isinstance(given[key], bool) or given[key] < 0:
            raise PluginError(f"extra.notes.{key} in mkdocs.yml must be a whole number, not {given[key]!r}")
        settings[key] = given[key]
    return settings


def on_files(files: Files, config: MkDocsConfig) -> Files:
    if _build is None:
        return files
    kb = _build.kb
    for uri in kb.drafts:
        draft = files.get_file_from_path(uri)
        if draft is not None:
            files.remove(draft)
    for uri, page in kb.pages.items():  # notes and concepts are reached through the indexes, not the nav
        if page.kind in ("note", "concept"):
            file = files.get_file_from_path(uri)
            if file is not None and file.inclusion is InclusionLevel.INCLUDED:
                file.inclusion = InclusionLevel.NOT_IN_NAV
    for uri, content in render.generated_pages(kb).items():
        files.append(File.generated(config, uri, content=content))
    _build.urls = {uri: files.get_file_from_path(uri).url for uri in kb.pages}
    if not config.site_url:
        log.info("site_url is not set, so the links in feed.xml are not absolute")
    feed = render.feed_xml(
        kb,
        title=config.site_name,
        site_url=config.site_url or "",
        description=config.site_description or "",
        urls=_build.urls,
        items=_build.settings["feed_items"],
    )
    existing = files.get_file_from_path(FEED)
    if existing is not None:
        log.warning(f"docs/{FEED} is replaced by the feed the build writes; delete it")
        files.remove(existing)
    files.append(File.generated(config, FEED, content=feed))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if _build is None:
        return markdown
    if page.meta.get("title"):  # the theme prints the front matter title unescaped (header, and h1 when the body has none)
        page.meta["title"] = page.title = html.escape(str(page.meta["title"]), quote=False)
    state = _build

    def map_html() -> str:
        if state.layout is None:
            state.layout = concept_map(state.kb, state.settings["map_notes"])
        return render.concept_map_svg(state.layout, lambda uri: get_relative_url(state.urls[uri], page.file.url))

    return render.finish_page(
        state.kb,
        page.file.src_uri,
        markdown,
        newest_count=state.settings["newest_on_home"],
        concept_map_html=map_html,
    )


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Let browsers and feed readers find the feed from every page."""
    if _build is None or "</head>" not in output:
        return output
    href = get_relative_url(FEED, page.url)
    link = f'<link rel="alternate" type="application/rss+xml" title="{html.escape(config.site_name)}" href="{href}">'
    return output.replace("</head>", link + "\n</head>", 1)
