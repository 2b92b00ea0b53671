"""Site URLs as MkDocs gives them, computed without MkDocs: a page's URL and one URL relative to another."""
from __future__ import annotations

import functools
import posixpath
from urllib.parse import quote


def page_url(src_uri: str, use_directory_urls: bool = True) -> str:
    """The URL MkDocs gives a file, relative to the site root ("notes/x/" for "notes/x.md")."""
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
def relative_url(url: str, from_url: str) -> str:
    """``url`` (from the site root) relative to the page at ``from_url``, as MkDocs' get_relative_url does."""
    other = from_url
    if other != ".":
        head, tail = posixpath.split(other)
        other = head if "." in tail else other
    rel = posixpath.relpath("/" + url, "/" + other)
    return rel + "/" if url.endswith("/") else rel
