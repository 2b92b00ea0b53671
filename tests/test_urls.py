"""Site URLs computed without MkDocs agree with MkDocs' own."""
from __future__ import annotations

import itertools

import pytest

from hooks.urls import file_target, page_url, relative_url, url_target

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


LINKS = ["a.md", "../concepts/b.md", "./c%20d.md", "sub/../e.md", "../../up.md", "f/", "../g/", "..", ".", "img/x.png"]


@pytest.mark.parametrize("src_uri, path", list(itertools.product(["index.md", "notes/a.md", "notes/deep/b c.md"], LINKS)))
def test_a_markdown_link_names_the_file_mkdocs_names(src_uri, path):
    from urllib.parse import unquote

    from tests.generator import build  # noqa: F401  (the generator the suite drives, mkdocs or properdocs)
    from mkdocs.structure.pages import _RelativePathTreeprocessor

    assert file_target(src_uri, path) == _RelativePathTreeprocessor._target_uri(src_uri, unquote(path))


@pytest.mark.parametrize("from_url, path", list(itertools.product(["./", "notes/a/", "notes/a.html", "concepts/", "."], LINKS)))
def test_a_link_in_html_leads_where_a_browser_takes_it(from_url, path):
    from urllib.parse import unquote, urljoin, urlsplit

    expected = unquote(urlsplit(urljoin("https://example.org/site/" + ("" if from_url in (".", "./") else from_url), path)).path)
    if not expected.startswith("/site/"):  # above the site's root
        return
    assert url_target(from_url, path) == expected[len("/site/"):]


def test_relative_path_is_posixpaths_relpath_quoted() -> None:
    """hooks.urls.relative_path works the path out from the two paths' parts, as posixpath.relpath does
    (without looking at the working directory): the same answer for random paths of docs/."""
    import posixpath
    import random
    from urllib.parse import quote

    from hooks.urls import relative_path

    names = ["a", "b", "Cours d'analyse", "Séance 1", "week 2"]
    rng = random.Random(7)
    for _ in range(3000):
        source = "/".join([rng.choice(names) for _ in range(rng.randint(0, 3))] + ["page.md"])
        target = "/".join([rng.choice(names) for _ in range(rng.randint(0, 3))] + [rng.choice(["x.md", "index.md", "a"])])
        if rng.random() < 0.1:
            target = "../" + target  # a file outside docs/
        expected = quote(posixpath.relpath(target, posixpath.dirname(source) or "."), safe="/._-~")
        assert relative_path(source, target) == expected, (source, target)
