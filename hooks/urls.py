"""Site URLs as MkDocs gives them, computed without MkDocs: a page's URL and one URL relative to another."""
from __future__ import annotations

import functools
import posixpath
import re
from urllib.parse import quote


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
    here = _folder_of(from_url)
    target = [p for p in url.split("/") if p and p != "."]
    common = 0
    while common < len(here) and common < len(target) and here[common] == target[common]:
        common += 1
    rel = "/".join([".."] * (len(here) - common) + target[common:]) or "."
    return rel + "/" if url.endswith("/") else rel


_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def rebase_url(url: str, from_url: str, to_path: str) -> str:
    """``url``, relative to the page at ``from_url``, made relative to ``to_path`` instead (a file's path
    from the site root, e.g. the page's source ``notes/x.md``). Absolute URLs, same-page anchors and
    URLs that leave the site are returned unchanged."""
    if not url or url.startswith(("#", "/", "?")) or _SCHEME_RE.match(url):
        return url
    cut = min((i for i in (url.find("#"), url.find("?")) if i != -1), default=len(url))
    path, rest = url[:cut], url[cut:]
    if not path:
        return url
    target = posixpath.normpath(posixpath.join("/".join(_folder_of(from_url)), path))
    if target == ".." or target.startswith("../"):  # above the site's root: not ours to move
        return url
    target = "" if target == "." else target
    if path.endswith("/") and target:
        target += "/"
    return relative_url(target or "./", quote(to_path)) + rest
