"""``notes export DIR``: the whole site as plain Markdown and files, for any generator to render.

The build's own core writes it (hooks.site): the files MkDocs lists, read and checked by
:func:`hooks.site.plan_site` as ``notes check`` does; the demo runs through the cache
(:func:`hooks.figures.runner.run_jobs`, running what is not cached); every page through the functions
the hooks call (wikilinks resolved into relative ``.md`` links, Obsidian's syntax settled, figures
as HTML, generated lists as raw HTML blocks, the header line under the title); and every file the
build adds (:func:`hooks.site.site_files`: archive, concept index, concept map, Demo runs, feed,
previews, demo outputs, KaTeX and mermaid). ``DIR/mkdocs.yml`` holds the project's theme, nav,
Markdown extensions, styles and scripts, and no hooks.

Generators disagree on one thing the pages rely on: a relative URL in raw HTML (the figures, the
generated lists, the header line). MkDocs and ProperDocs leave it alone, so the browser reads it
relative to the page's URL, as the hooks write it; Zensical reads it as relative to the Markdown
file and rewrites it. ``--for zensical`` writes those URLs relative to the file, so that both give
the same links (:func:`source_relative_html`).

Writing is incremental: a file whose bytes are unchanged is not written again (its mtime is kept),
and a file the previous export wrote that no longer belongs is removed. What was written is listed
in ``DIR/.notes-export.json`` with each file's SHA-256; nothing else in ``DIR`` is touched (a
generator's ``site/`` or cache). A listed file is removed only when its bytes still hash to what the
export wrote: a manifest is a file like any other, and one copied, edited or written by someone else
must not make the export delete a file it did not write; such a file is kept and reported.
"""
from __future__ import annotations

import copy
import html
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import yaml

from hooks import site
from hooks.config import ConfigError, read_config
from hooks.figures.cache import CacheError, DemoCache
from hooks.figures.remote import RemoteError
from hooks.figures.model import Result
from hooks.figures.runner import counts, failure_summary, run_jobs
from hooks.kb import assets, explorer, render
from hooks.hashing import digest_of, sha256_file
from hooks.kb.sources import split_front_matter
from hooks.markdown import scan
from hooks.problems import Problem, failing
from hooks.urls import page_url, rebase_url

MANIFEST = ".notes-export.json"
DOCS = "docs"
HOOK_SETTINGS = ("notes", "demos")  # keys of `extra` that only this project's hooks read
# Settings of mkdocs.yml the exported one does not copy: the hooks, where the sources lie, and what
# is computed again below (plugins, Markdown extensions, scripts, extra, not_in_nav).
NOT_COPIED = {"hooks", "docs_dir", "site_dir", "exclude_docs", "draft_docs", "watch", "strict", "plugins",
              "markdown_extensions", "extra_javascript", "extra", "not_in_nav", "INHERIT"}


class ExportError(Exception):
    """The export cannot go on (a folder it must not write into); the message says what to do."""


# --- plugins whose work is Markdown to Markdown: done here, so that any generator reads the result -----

def _callouts(options: Mapping[str, Any]) -> Callable[[str], str]:
    from mkdocs_callouts.utils import CalloutParser  # the plugin's own parser (it imports nothing of MkDocs)

    def convert(markdown: str) -> str:
        parser = CalloutParser(convert_aliases=options.get("aliases", True), breakless_lists=options.get("breakless_lists", True),
                               title_from_first_bold=options.get("title_from_first_bold", False))
        return parser.parse(markdown)

    return convert


TEXT_PLUGINS: dict[str, Callable[[Mapping[str, Any]], Callable[[str], str]]] = {"callouts": _callouts}


def _plugins(raw: Any) -> list[tuple[str, dict[str, Any]]]:
    """mkdocs.yml's ``plugins`` (a list of names or one-key mappings, or a mapping) as (name, options)."""
    items = raw.items() if isinstance(raw, dict) else ((next(iter(p.items())) if isinstance(p, dict) else (p, {})) for p in raw or [])
    return [(str(name), dict(options or {})) for name, options in items]


# --- generators that read raw HTML's URLs as relative to the Markdown file -----------------------------

FLAVOURS = ("mkdocs", "zensical")
_HTML_URL_RE = re.compile(r'(?<![\w:.-])(?P<attr>href|src)="(?P<url>[^"]*)"')  # not xlink:href, which Zensical leaves alone


def source_relative_html(markdown: str, src_uri: str, use_directory_urls: bool) -> str:
    """Every ``href`` and ``src`` of the raw HTML in a page (outside code), relative to the page's URL,
    rewritten relative to its Markdown file, which is how Zensical reads them."""
    url = page_url(src_uri, use_directory_urls)
    found = scan(markdown)
    lines = list(found.lines)
    for index, m in reversed(list(found.finditer(_HTML_URL_RE, skip_directives=False))):
        moved = rebase_url(html.unescape(m.group("url")), url, src_uri)
        line = lines[index]
        lines[index] = line[: m.start("url")] + html.escape(moved, quote=True).replace("&#x27;", "'") + line[m.end("url"):]
    return "\n".join(lines)


# --- the exported tree -------------------------------------------------------------------------------

@dataclass
class Tree:
    """What the export writes, by path relative to DIR: text, or a file to copy."""

    files: dict[str, str | Path] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def exported_config(plan: site.SitePlan, raw: Mapping[str, Any], kept_plugins: list[tuple[str, dict]],
                    in_nav: Iterable[tuple[str, str | None]] = ()) -> str:
    """DIR/mkdocs.yml: the project's settings for the exported tree, with no hooks. A project without
    ``nav:`` (a vault) gets its folders as ``nav:``, as the site hook shows them (``in_nav``: the pages a
    navigation of the generator's own would list, each with its text when the build generates it)."""
    project = plan.project
    # A setting left empty means the generator's default (Zensical fails on `nav: null`), and so does one
    # whose YAML tag the plain reading cannot run (!ENV): MkDocs and Zensical both fall back to their defaults.
    out: dict[str, Any] = {key: copy.deepcopy(value) for key, value in raw.items() if key not in NOT_COPIED and value is not None}
    out.update(site_name=project.site_name, docs_dir=DOCS, site_dir="site", use_directory_urls=project.use_directory_urls)
    if project.site_url:
        out["site_url"] = project.site_url
    if project.site_description:
        out["site_description"] = project.site_description
    theme = out.get("theme")
    if isinstance(theme, dict) and theme.get("custom_dir") and project.config_path is not None:
        theme["custom_dir"] = str((project.config_path.parent / theme["custom_dir"]).resolve())
    out["plugins"] = [name if not options else {name: options} for name, options in kept_plugins]
    extensions = list(project.markdown_extensions)
    configs = copy.deepcopy(project.mdx_configs)
    site.markdown_setup(extensions, configs, line_breaks=site.line_breaks_shown(project.docs_dir, raw.get("extra"), project.config_path))
    out["markdown_extensions"] = [{name: configs[name]} if configs.get(name) else name for name in extensions]
    out["extra_javascript"] = site.scripts(list(raw.get("extra_javascript") or []))
    extra = {k: v for k, v in (raw.get("extra") or {}).items() if k not in HOOK_SETTINGS}
    if extra:
        out["extra"] = extra
    if raw.get("nav") is None:
        out["nav"] = explorer.nav_config(site.explorer_of(plan, in_nav))
    hidden = [str(raw["not_in_nav"]).strip()] if raw.get("not_in_nav") else []
    hidden += [f"/{uri}" for uri, page in plan.kb.pages.items() if page.kind in ("note", "concept")]  # as the site hook says
    if hidden:
        out["not_in_nav"] = "\n".join(hidden) + "\n"
    head = ("# Written by `notes export` from the project's mkdocs.yml, with no hooks: every page below docs/ is\n"
            "# already what the hooks make of it. Edit the project instead, and export again.\n")
    return head + yaml.dump(out, Dumper=_ConfigDumper, sort_keys=False, allow_unicode=True, width=120)


class _ConfigDumper(yaml.Dumper):
    """PyYAML's full dumper (a function, such as a superfences fence format, is written !!python/name:...,
    as mkdocs.yml writes it), with text of several lines as a block (not_in_nav)."""


_ConfigDumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


def _front_for_export(plan: site.SitePlan, src_uri: str, front: str) -> str:
    """The page's front matter; with its printed texts escaped, as the site hook escapes them for the theme,
    and the title the site hook gives a page without a title property (its file name: site.page_title)."""
    parsed = plan.kb.parsed.get(src_uri)
    if parsed is None or not parsed.source.ok:
        return front
    meta, title = parsed.source.meta, site.page_title(plan, src_uri)
    if src_uri == "index.md":  # the home page's tab is the site's name unless a title property says otherwise
        title = None
    if title is not None and "title" not in meta:
        meta = {"title": title, **meta}
    elif not front:
        return front
    escaped = render.escape_meta(meta)
    if escaped == parsed.source.meta:
        return front
    return "---\n" + yaml.safe_dump(escaped, sort_keys=False, allow_unicode=True) + "---\n"


def export_tree(plan: site.SitePlan, raw: Mapping[str, Any], *, flavour: str = "mkdocs",
                on_result: Callable[[Result], None] | None = None) -> Tree:
    """Every file of the export, computed by the build's own functions (nothing is written here).

    Runs the plan's demo jobs through the cache (what is not cached runs, as in a build).
    ``flavour``: "mkdocs" (also ProperDocs) or "zensical" (see :func:`source_relative_html`)."""
    tree = Tree()
    project, kb = plan.project, plan.kb
    if project.demos is not None:
        settings = project.demos
        tree.results = run_jobs(plan.jobs, settings, DemoCache(settings.cache_dir), on_result=on_result)
        tree.problems = plan.show_runs(tree.results)  # the numbers the pages take from the runs
    plugins = _plugins(raw.get("plugins"))
    text_plugins = [TEXT_PLUGINS[name](options) for name, options in plugins if name in TEXT_PLUGINS]
    kept = [(name, options) for name, options in plugins if name not in TEXT_PLUGINS]
    layout = site.concept_map_of(plan)

    def page(src_uri: str, text: str) -> str:
        front, markdown = split_front_matter(text)
        markdown = markdown.lstrip("\n")  # as MkDocs hands a page's Markdown to the hooks: from its first non-blank line
        for convert in text_plugins:  # plugins run before hooks, in the order listed
            markdown = convert(markdown)
        markdown = site.exported_page(plan, src_uri, markdown, layout)
        if flavour == "zensical":
            markdown = source_relative_html(markdown, src_uri, project.use_directory_urls)
        return _front_for_export(plan, src_uri, front) + markdown

    hidden = set(kb.drafts) | plan.refused
    listed = {f.src_uri for f in plan.files if f.published and f.src_uri not in hidden}
    for file in plan.files:
        if file.src_uri not in listed:
            continue  # drafts, excluded files and files refused by the plan are not published
        text = site.page_source(plan, file.src_uri) if file.src_uri.endswith(".md") else None
        tree.files[f"{DOCS}/{file.src_uri}"] = page(file.src_uri, text) if text is not None else Path(file.abs_path)
    in_nav: list[tuple[str, str | None]] = [  # as the site hook leaves them in MkDocs' navigation
        (f.src_uri, None) for f in plan.files if f.src_uri in listed and f.status == "included" and f.src_uri.endswith(".md")
        and not (f.src_uri in kb.pages and kb.pages[f.src_uri].kind in ("note", "concept"))]
    for path, content in site.site_files(plan, taken=listed.__contains__).items():
        if isinstance(content, str) and path.endswith(".md"):
            in_nav.append((path, content))
            content = page(path, content)
        tree.files[f"{DOCS}/{path}"] = content
    tree.files["mkdocs.yml"] = exported_config(plan, raw, kept, in_nav)
    return tree


# --- writing it, touching only what changed -----------------------------------------------------------

@dataclass
class Written:
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # listed by the manifest but not provably written by the export: left alone


def _same(target: Path, content: bytes | Path) -> bool:
    try:
        st = target.stat()
    except OSError:
        return False
    if isinstance(content, Path):
        if st.st_size != content.stat().st_size:
            return False
        return target.read_bytes() == content.read_bytes()
    return st.st_size == len(content) and target.read_bytes() == content


def _write_atomic(target: Path, content: bytes | Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    data = content.read_bytes() if isinstance(content, Path) else content
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".notes-export-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_manifest(out_dir: Path) -> dict[str, str | None] | None:
    """What the previous export wrote: each file with the SHA-256 of its bytes (None where the manifest,
    of an older version, holds no hash), or None when there is no manifest."""
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ExportError(f"{out_dir / MANIFEST} cannot be read ({exc}); delete {out_dir} and export again") from None
    files = data.get("files") if isinstance(data, dict) and data.get("written_by") == "notes export" else None
    if isinstance(files, list) and all(isinstance(f, str) for f in files):  # an older manifest: names without hashes
        return dict.fromkeys(files)
    if not isinstance(files, dict) or not all(isinstance(f, str) and isinstance(h, str) for f, h in files.items()):
        raise ExportError(f"{out_dir / MANIFEST} is not a manifest notes export wrote; delete {out_dir} and export again")
    return files


def _written_by_export(target: Path, digest: str | None) -> bool:
    """Whether ``target`` is a regular file whose bytes hash to ``digest``, what the export wrote there."""
    try:
        return digest is not None and target.is_file() and not target.is_symlink() and sha256_file(target) == digest
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def write_tree(files: Mapping[str, str | Path], out_dir: Path) -> Written:
    """Write ``files`` under ``out_dir``: only those whose bytes changed; remove what the previous
    export wrote and this one does not. Refuses a folder that holds files it did not write."""
    out_dir = out_dir.resolve()
    previous = _read_manifest(out_dir) if out_dir.is_dir() else None
    if previous is None and out_dir.is_dir() and any(out_dir.iterdir()):
        raise ExportError(f"{out_dir} holds files that notes export did not write (it has no {MANIFEST}); "
                          "export into an empty or new folder")
    done = Written()
    digests: dict[str, str] = {}
    for rel, content in sorted(files.items()):
        target = out_dir / rel
        if not _inside(target.resolve(), out_dir):
            raise ExportError(f"{rel} would be written outside {out_dir}")
        data = content.encode("utf-8") if isinstance(content, str) else content
        digests[rel] = digest_of(data) if isinstance(data, bytes) else sha256_file(data)
        if _same(target, data):
            done.unchanged += 1
            continue
        _write_atomic(target, data)
        done.written.append(rel)
    for rel, digest in sorted((previous or {}).items()):
        if rel in files or rel == MANIFEST:
            continue
        target = out_dir / rel
        if not (_inside(target.resolve(), out_dir) and target.is_file()):
            continue
        if not _written_by_export(target, digest):
            done.kept.append(rel)
        else:
            target.unlink()
            done.removed.append(rel)
            folder = target.parent
            while folder != out_dir and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
    manifest = (json.dumps({"written_by": "notes export", "files": dict(sorted(digests.items()))}, indent=1) + "\n").encode("utf-8")
    if not _same(out_dir / MANIFEST, manifest):
        _write_atomic(out_dir / MANIFEST, manifest)
    return done


# --- the command ---------------------------------------------------------------------------------------

def cmd_export(root: Path, out_dir: Path, strict: bool = False, flavour: str = "mkdocs") -> int:
    from hooks.mkdocs_files import load_project  # MkDocs lists the files (exclude_docs, drafts), as for a build

    project, files = load_project(root / "mkdocs.yml")
    out_dir = out_dir.resolve()
    if _inside(out_dir, project.docs_dir.resolve()) or out_dir == root.resolve():
        print(f"notes export: {out_dir} is the project's folder or inside its docs; export into a folder of its own "
              "(e.g. build/export)", file=sys.stderr)
        return 2
    plan = site.plan_site(project, files)
    for problem in plan.problems:
        print(problem, file=sys.stderr)
    stopping = failing(plan.problems, strict)
    if stopping:
        print(f"notes export: {len(stopping)} problem(s) stop the export{' (strict)' if strict else ''}; nothing was written",
              file=sys.stderr)
        return 1

    def report(r: Result) -> None:
        if r.status in ("ran", "failed"):
            print(f"demo {r.job.name} [{r.job.params_id}]: {r.status} in {r.seconds:.1f} s", file=sys.stderr)
        for line in r.remote_problems:
            print(line, file=sys.stderr)

    try:
        raw = read_config(project.config_path or root / "mkdocs.yml")
        tree = export_tree(plan, raw, flavour=flavour, on_result=report)
    except (CacheError, RemoteError, RuntimeError, ConfigError, assets.AssetsMissing) as exc:
        print(f"notes export: {exc}", file=sys.stderr)
        return 2
    for problem in tree.problems:
        print(problem, file=sys.stderr)
    stopping = failing(tree.problems, strict)
    if stopping:
        print(f"notes export: {len(stopping)} problem(s) with the numbers taken from runs stop the export"
              f"{' (strict)' if strict else ''}; nothing was written", file=sys.stderr)
        return 1
    summary = failure_summary(tree.results)
    if summary:
        print("demo runs failed; pages show the last good figures:\n" + "\n".join(summary), file=sys.stderr)
        if strict:
            print("notes export: demo runs failed (strict); nothing was written", file=sys.stderr)
            return 1
    try:
        done = write_tree(tree.files, out_dir)
    except (ExportError, OSError) as exc:
        print(f"notes export: {exc}", file=sys.stderr)
        return 2
    for rel in done.kept:
        print(f"{out_dir / rel}: kept, though the previous export listed it: its bytes are not what notes export wrote "
              "there (changed since, or listed by a manifest it did not write); delete it yourself if it is not needed",
              file=sys.stderr)
    c = counts(tree.results)
    demos = f"; demos: {c['ran']} ran, {c['cached']} cached, {c['failed']} failed" if project.demos is not None else ""
    print(f"exported {len(tree.files)} files to {out_dir}: {len(done.written)} written, {done.unchanged} unchanged, "
          f"{len(done.removed)} removed{demos}")
    return 0
