"""Site URLs computed without MkDocs agree with MkDocs' own."""
from __future__ import annotations

import itertools

import pytest

from hooks.urls import page_url, relative_url

URLS = ["./", "notes/", "notes/a/", "concepts/b/", "feed.xml", "demos/x/a.svg", "index.html", "a.html",
        "notes/a.html", "notes/a%20b/", "demos/x/p-1/a.svg", ".", "notes/sub/deep/", "assets/vendor/katex/katex.min.css"]


@pytest.mark.parametrize("url, from_url", list(itertools.product(URLS, URLS)))
def test_relative_url_is_mkdocs_get_relative_url(url, from_url):
    from tests.generator import build  # noqa: F401  (the generator the suite drives, mkdocs or properdocs)
    from mkdocs.utils import get_relative_url

    assert relative_url(url, from_url) == get_relative_url(url, from_url)


@pytest.mark.parametrize("src_uri, directory_urls, url", [
    ("index.md", True, "./"), ("notes/index.md", True, "notes/"), ("notes/a b.md", True, "notes/a%20b/"),
    ("notes/a.md", False, "notes/a.html"), ("index.md", False, "index.html"), ("img/x.png", True, "img/x.png"),
    ("README.md", True, "./"),
])
def test_page_url_is_mkdocs_file_url(tmp_path, src_uri, directory_urls, url):
    from mkdocs.structure.files import File

    assert page_url(src_uri, directory_urls) == url == File(src_uri, str(tmp_path), str(tmp_path / "site"), directory_urls).url
