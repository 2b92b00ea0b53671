"""Static checks of the built site: every internal link and anchor resolves, images have alt text,
headings are well formed, and nothing of the build machine (paths, user, host) is published."""
from __future__ import annotations

import getpass
import gzip
import json
import os
import re
import socket
import sysconfig
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup

from tests.e2e.conftest import REPO, html_pages, site_url_config

pytestmark = pytest.mark.e2e

SITE_URL = site_url_config()  # https://example.invalid/dl-notes/
TEXT_SUFFIXES = {".html", ".xml", ".json", ".svg", ".js", ".css", ".txt", ".py", ".map"}
# Attributes that load or link something, per element; a fragment is an anchor only on a link.
LINK_ATTRS = {"a": ("href", "xlink:href"), "link": ("href",), "img": ("src",), "script": ("src",), "source": ("src",), "iframe": ("src",)}


@pytest.fixture(scope="module")
def site(built_site: Path) -> Path:
    return built_site


@pytest.fixture(scope="module")
def soups(site: Path) -> dict[str, BeautifulSoup]:
    """Every HTML page, parsed once, by its URL path relative to the site root."""
    return {url: BeautifulSoup(_file_of(site, url).read_text(encoding="utf-8"), "html.parser") for url in html_pages(site)}


def _file_of(site: Path, rel: str) -> Path:
    path = site / unquote(rel)
    return path / "index.html" if rel == "" or rel.endswith("/") or path.is_dir() else path


@cache
def _ids_cached(path: Path) -> frozenset[str]:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return frozenset([t["id"] for t in soup.find_all(id=True)] + [t["name"] for t in soup.find_all("a", attrs={"name": True})])


class Resolver:
    """Resolves a URL found in the site to a file of the site; external ones are collected, not fetched."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.base = urlsplit(SITE_URL)
        self.external: dict[str, set[str]] = defaultdict(set)
        self.problems: list[str] = []
        self.checked = 0
        self.theme_anchors = 0

    def check(self, where: str, page_url: str, url: str, anchor: bool) -> None:
        """``page_url`` is the absolute URL of the page the link is on, ``url`` the link as written."""
        url = url.strip()
        if not url or url.startswith(("data:", "javascript:", "mailto:", "tel:")):
            if url.startswith("javascript:"):
                self.problems.append(f"{where}: javascript: link {url!r}")
            return
        target = urlsplit(urljoin(page_url, url))
        if target.scheme not in ("http", "https") or target.netloc != self.base.netloc:
            self.external[f"{target.scheme}://{target.netloc}{target.path}" + (f"?{target.query}" if target.query else "")].add(where)
            return
        self.checked += 1
        if not target.path.startswith(self.base.path):
            self.problems.append(f"{where}: {url!r} leaves the site's path {self.base.path}")
            return
        rel = target.path[len(self.base.path):]
        path = _file_of(self.site, rel)
        if not path.is_file():
            self.problems.append(f"{where}: {url!r} -> {path.relative_to(self.site)} does not exist")
            return
        if not (anchor and target.fragment):
            return
        if path.suffix != ".html":
            self.problems.append(f"{where}: {url!r} has an anchor into a file that is not a page")
            return
        fragment = unquote(target.fragment)
        if fragment.startswith("__"):
            self.theme_anchors += 1  # Material's own (#__drawer, #__codelineno-...): checked like any other
        if fragment not in _ids_cached(path):
            self.problems.append(f"{where}: {url!r}: no element with id {fragment!r} in {path.relative_to(self.site)}")


def test_every_internal_link_and_anchor_resolves(site: Path, soups: dict[str, BeautifulSoup], capsys) -> None:
    resolver = Resolver(site)
    for url, soup in soups.items():
        page_url = SITE_URL + url
        for tag, attrs in LINK_ATTRS.items():
            for el in soup.find_all(tag):
                for attr in attrs:
                    if el.has_attr(attr):
                        resolver.check(f"{url or 'index.html'} <{tag} {attr}>", page_url, el[attr], anchor=tag == "a")
    # The sitemap, the feed and the search index point into the site too.
    sitemap = ET.parse(site / "sitemap.xml").getroot()
    locs = [loc.text or "" for loc in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert locs, "sitemap.xml lists no page"
    for loc in locs:
        resolver.check("sitemap.xml", SITE_URL, loc, anchor=False)
    assert gzip.decompress((site / "sitemap.xml.gz").read_bytes()) == (site / "sitemap.xml").read_bytes()
    feed = ET.parse(site / "feed.xml").getroot()
    for link in feed.iter("link"):
        resolver.check("feed.xml <link>", SITE_URL, link.text or "", anchor=False)
    for guid in feed.iter("guid"):
        resolver.check("feed.xml <guid>", SITE_URL, guid.text or "", anchor=False)
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    for doc in index["docs"]:
        resolver.check(f"search_index.json {doc['location']!r}", SITE_URL, doc["location"] or "./", anchor=True)

    with capsys.disabled():
        print(f"\n{resolver.checked} internal links checked ({resolver.theme_anchors} to Material's #__ anchors); "
              f"{len(resolver.external)} external links, not fetched:")
        for url in sorted(resolver.external):
            pages = sorted(resolver.external[url])
            print(f"  {url}  ({len(pages)}x, e.g. {pages[0].split(' <')[0]})")
    assert resolver.checked > 100
    assert not resolver.problems, f"{len(resolver.problems)} broken links:\n" + "\n".join(resolver.problems)


def _article(soup: BeautifulSoup):
    return soup.select_one("article.md-content__inner")


def test_every_image_in_an_article_has_alt_text(soups: dict[str, BeautifulSoup]) -> None:
    missing, count = [], 0
    for url, soup in soups.items():
        article = _article(soup)
        for img in article.find_all("img") if article else ():
            count += 1
            if not (img.get("alt") or "").strip():
                missing.append(f"{url or 'index.html'}: {img.get('src')}")
    assert count > 0, "no image in any article: is the site built with its figures?"
    assert not missing, "images without alt text:\n" + "\n".join(missing)


def test_every_page_has_exactly_one_h1(soups: dict[str, BeautifulSoup]) -> None:
    wrong = {url or "index.html": [h.get_text(strip=True) for h in soup.find_all("h1")] for url, soup in soups.items()}
    wrong = {url: h1s for url, h1s in wrong.items() if len(h1s) != 1}
    assert not wrong, f"pages without exactly one h1: {wrong}"


def test_headings_in_articles_do_not_skip_levels(soups: dict[str, BeautifulSoup]) -> None:
    problems = []
    for url, soup in soups.items():
        article = _article(soup)
        if article is None:
            problems.append(f"{url or 'index.html'}: no article")
            continue
        level = 0
        for h in article.find_all(re.compile(r"^h[1-6]$")):
            new = int(h.name[1])
            if new > level + 1:
                problems.append(f"{url or 'index.html'}: h{level} -> h{new} at {h.get_text(strip=True)!r}")
            level = new
    assert not problems, "headings that skip a level:\n" + "\n".join(problems)


# --- nothing of the build machine is published -------------------------------------------------------

GENERIC_NAMES = re.compile(r"^(root|runner|user|admin|build|builder|ci|docker|ubuntu|debian|vm|host|localhost|box|dev|app|node|nobody)$", re.I)


def _machine_strings(site: Path) -> list[tuple[str, re.Pattern]]:
    """(what, pattern) for every absolute path, user name and host name of this machine that must not show."""
    paths = {
        "the repository path": str(REPO),
        "the repository path (resolved)": str(REPO.resolve()),
        "the home folder": os.path.expanduser("~"),
        "the temp folder": tempfile.gettempdir(),
        "the build folder": str(site),
        "the site-packages folder": sysconfig.get_paths()["purelib"],
    }
    start = r"(?<![\w.~-])"  # an absolute path starts here, not inside a longer one (/dist/tmp)
    out = [("/tmp/", re.compile(start + re.escape("/tmp/")))]
    for what, path in paths.items():
        path = path.rstrip("/")
        if len(path) > 1:
            out.append((f"{what} {path}", re.compile(start + re.escape(path) + r"(?![\w.-])")))
    names = {f"user name {n}" : n for n in {getpass.getuser(), os.environ.get("USER", ""), os.environ.get("LOGNAME", "")} if n}
    host = socket.gethostname()
    names.update({f"host name {h}": h for h in {host, host.split(".")[0], socket.getfqdn()} if h and h != "localhost"})
    for what, name in names.items():
        word = re.escape(name)
        if GENERIC_NAMES.match(name) or len(name) < 4:
            # A common word (or a minifier's variable name): only where it names a user or a machine.
            out.append((what, re.compile(rf"(?:[/\\~@]|//){word}(?![\w-])|(?<![\w-]){word}(?:@|:\d|\.local\b|\.lan\b)")))
        else:
            out.append((what, re.compile(rf"(?<![\w-]){word}(?![\w-])")))
    return out


def _vendored(site: Path) -> set[Path]:
    """Files copied unchanged from Material's or MkDocs' own templates: nothing of this machine can be in them."""
    import material
    import mkdocs

    roots = [Path(material.__file__).parent / "templates", Path(mkdocs.__file__).parent / "themes" / "mkdocs"]
    same = set()
    for path in site.rglob("*"):
        rel = path.relative_to(site)
        for root in roots:
            theirs = root / rel
            if path.is_file() and theirs.is_file() and theirs.read_bytes() == path.read_bytes():
                same.add(path)
    return same


BASE64_DATA = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")


def test_nothing_of_the_build_machine_is_published(site: Path) -> None:
    patterns = _machine_strings(site)
    vendored = _vendored(site)
    files = [p for p in sorted(site.rglob("*")) if p.is_file() and p.suffix in TEXT_SUFFIXES]
    # an image embedded as base64 (a figure's heat map) is bytes, not text: "vm" may turn up in it by chance
    texts = {p.relative_to(site).as_posix(): BASE64_DATA.sub("data:…", p.read_text(encoding="utf-8", errors="replace")) for p in files}
    texts["sitemap.xml.gz (unpacked)"] = gzip.decompress((site / "sitemap.xml.gz").read_bytes()).decode()
    assert sum(1 for rel in texts if (site / rel) not in vendored) > 20
    found = []
    for rel, text in texts.items():
        if (site / rel) in vendored:
            continue
        for what, pattern in patterns:
            for m in pattern.finditer(text):
                found.append(f"{rel}: {what}: ...{text[max(0, m.start() - 60):m.end() + 60]!r}...")
                break
    assert not found, "the build machine shows through:\n" + "\n".join(found)
