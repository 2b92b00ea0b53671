"""The one place paths and URLs are resolved, as MkDocs resolves them, without MkDocs.

Two readings of a relative link: a Markdown link names a file of docs/ relative to the source file
it is written in (:func:`file_target`, :func:`relative_path`); a link in rendered HTML names a URL
relative to the page's URL (:func:`url_target`, :func:`relative_url`). A file's URL is
:func:`page_url`; :func:`site_href` links a page to any file of the site. Each is tested against
MkDocs' own functions (tests/test_urls.py).
"""
from __future__ import annotations

import functools
import posixpath
import re
from typing import Callable, Sequence
from urllib.parse import quote, unquote


@functools.lru_cache(maxsize=65536)
def unquoted(text: str) -> str:
    """``urllib.parse.unquote(text)``, kept for the process: a page's URL is unquoted each time another
    page links it, and an accented name (``S%C3%A9ance``) takes ``unquote`` its slow path."""
    return unquote(text)


@functools.lru_cache(maxsize=65536)
def page_url(src_uri: str, use_directory_urls: bool = True) -> str:
    """The URL MkDocs gives a file, relative to the site root ("notes/x/" for "notes/x.md").

    Kept for the process: a generated list links a thousand notes from a page the knowledge base
    has no URL for (the archive, the tags page), asking for that page's URL each time."""
    folder, name = posixpath.split(src_uri)
    stem, ext = posixpath.splitext(name)
    if ext.lower() not in (".md", ".markdown"):
        dest = src_uri
    elif stem in ("index", "README"):
        dest = posixpath.join(folder, "index.html")
    elif use_directory_urls:
        dest = posixpath.join(folder, stem, "index.html")
    else:
        dest = posixpath.join(folder, stem + ".html")
    head, tail = posixpath.split(dest)
    if use_directory_urls and tail == "index.html":
        dest = (head or ".") + "/"
    return quote(dest)


@functools.lru_cache(maxsize=65536)
def _folder_of(from_url: str) -> tuple[str, ...]:
    """The folders of the page at ``from_url`` (a file name, one with a '.', is not a folder)."""
    if from_url == ".":
        return ()
    parts = [p for p in from_url.split("/") if p and p != "."]
    if parts and not from_url.endswith("/") and "." in parts[-1]:
        parts.pop()
    return tuple(parts)


def relative_url(url: str, from_url: str) -> str:
    """``url`` (from the site root) relative to the page at ``from_url``, as MkDocs' get_relative_url does.

    Both are paths MkDocs made (no '..'), so this is string work: drop the common folders, climb the rest.
    """
    rel = _climb(_folder_of(from_url), _parts(url))
    return rel + "/" if url.endswith("/") else rel


def _parts(path: str) -> list[str]:
    return [part for part in path.split("/") if part and part != "."]


def _climb(here: Sequence[str], there: Sequence[str]) -> str:
    """The path from the folder ``here`` to ``there`` (both as parts from the root, no '..'): the common
    folders dropped, the rest of ``here`` climbed; "." for the folder itself."""
    common = 0
    while common < len(here) and common < len(there) and here[common] == there[common]:
        common += 1
    return "/".join([".."] * (len(here) - common) + list(there[common:])) or "."


_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def is_relative(link: str) -> bool:
    """Whether a link's path names something of this site relative to where it is written (not
    another site, not the site's root, not an anchor or query on the same page)."""
    return bool(link) and not link.startswith(("#", "/", "?")) and _SCHEME_RE.match(link) is None


def split_link(link: str) -> tuple[str, str]:
    """``(path, rest)``: a link's path and what follows it (``#anchor``, ``?query``)."""
    cut = min((i for i in (link.find("#"), link.find("?")) if i != -1), default=len(link))
    return link[:cut], link[cut:]


def file_target(from_uri: str, path: str) -> str:
    """The file of docs/ that a Markdown link's (quoted) ``path`` names from the source file ``from_uri``,
    as MkDocs reads a link: relative to the file (may start with ``..`` when it leaves docs/)."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(from_uri), unquoted(path)))


def url_target(from_url: str, path: str) -> str:
    """The URL from the site root (unquoted; ``""`` for the root, a trailing ``/`` kept) that a link's
    ``path`` in the HTML of the page at ``from_url`` leads to, as a browser reads it."""
    target = posixpath.normpath(posixpath.join(unquoted("/".join(_folder_of(from_url))), unquoted(path)))
    if target == ".":
        return ""
    folder = path.endswith("/") or path.rsplit("/", 1)[-1] in (".", "..")  # a browser goes to the folder's URL
    return target + "/" if folder else target


def relative_path(from_uri: str, to_uri: str) -> str:
    """Relative, URL-quoted path from one docs file to another, as MkDocs expects in a Markdown link."""
    return _relative_from_dir(posixpath.dirname(from_uri) or ".", to_uri)


@functools.lru_cache(maxsize=65536)
def _relative_from_dir(from_dir: str, to_uri: str) -> str:
    # Every note in a folder links the same concepts: the same few thousand pairs, computed once each.
    # posixpath.relpath's answer for two paths of docs/ (no ".." in from_dir), without its abspath calls
    # (75 µs a pair, most of the cost of a vault's links, each pair new)
    return quote(_climb(_parts(from_dir), _parts(to_uri)), safe="/._-~")


def site_href(from_src_uri: str, use_directory_urls: bool = True) -> Callable[[str], str]:
    """Links from the page ``from_src_uri``: a file of the site (a page by its .md path) -> its URL
    relative to the page."""
    from_url = page_url(from_src_uri, use_directory_urls)
    return lambda site_path: relative_url(page_url(site_path, use_directory_urls), from_url)


def rebase_url(url: str, from_url: str, to_path: str) -> str:
    """``url``, relative to the page at ``from_url``, made relative to ``to_path`` instead (a file's path
    from the site root, e.g. the page's source ``notes/x.md``). Absolute URLs, same-page anchors and
    URLs that leave the site are returned unchanged."""
    if not is_relative(url):
        return url
    path, rest = split_link(url)
    if not path:
        return url
    target = posixpath.normpath(posixpath.join("/".join(_folder_of(from_url)), path))
    if target == ".." or target.startswith("../"):  # above the site's root: not ours to move
        return url
    target = "" if target == "." else target
    if path.endswith("/") and target:
        target += "/"
    return relative_url(target or "./", quote(to_path)) + rest
