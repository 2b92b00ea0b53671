"""A vault's file explorer as a navigation tree: folders before notes, in Obsidian's natural order,
each folder's note (``Folder/Folder.md`` or ``Folder/index.md``) first in its folder as the folder's page.

Pure data in, pure data out: the site hook turns the tree into MkDocs' navigation (``on_nav``), and the
tree is also what decides, under `mkdocs serve`, that every page must be rendered again (every page
shows the explorer, so a new page or a new title changes them all).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Union


INDEX_NAMES = ("index.md", "README.md")  # what MkDocs itself serves as a folder's own page, in that order


@dataclass(frozen=True)
class PageEntry:
    """A page in the explorer: its source path under docs/ and the title it shows."""

    src_uri: str
    title: str


@dataclass(frozen=True)
class FolderEntry:
    """A folder: its own name, its path under docs/ ('' for docs/ itself), its folder note (None when
    it has none) and what it holds besides that note: folders first, then pages, each in natural order."""

    name: str
    path: str
    note: PageEntry | None
    children: tuple[Union[FolderEntry, PageEntry], ...]

    @property
    def title(self) -> str:
        """The folder's name as shown, named as MkDocs names a folder in a navigation of its own:
        ``-`` and ``_`` as spaces, an all-lowercase name capitalised (``notes`` is ``Notes``, the
        title of the page the folder holds; ``Cours d'analyse`` stays as it is)."""
        title = self.name.replace("-", " ").replace("_", " ")
        return title.capitalize() if title.lower() == title else title

    def pages(self) -> list[PageEntry]:
        """Every page of the folder, as the explorer lists them top to bottom (the folder note first)."""
        out = [self.note] if self.note is not None else []
        for child in self.children:
            out += child.pages() if isinstance(child, FolderEntry) else [child]
        return out


Entry = Union[FolderEntry, PageEntry]

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key of a file or folder name as Obsidian's explorer orders names: runs of digits by their
    value (``Séance 2`` before ``Séance 10``), letters without regard to case or accents (``é`` sorts
    as ``e``, ``Œ`` as ``oe``), digits before letters; names equal under these rules by their own text,
    so the order never depends on the order the files were listed in."""
    base = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    base = base.casefold().replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    parts = []
    for i, piece in enumerate(_DIGITS.split(base)):
        if not piece:
            continue
        parts.append((0, int(piece), "") if i % 2 else (1, 0, piece))
    return (tuple(parts), name.casefold(), name)


def folder_note_of(folder: str, names: Iterable[str]) -> str | None:
    """The file name of the folder note among the Markdown files ``names`` directly in ``folder``
    (a path under docs/, '' for docs/ itself): ``index.md`` (or MkDocs' ``README.md``), else a note
    named as its folder (``Cours/Cours.md``, Obsidian's folder-note convention); None when neither."""
    names = set(names)
    for name in INDEX_NAMES:
        if name in names:
            return name
    own = folder.rsplit("/", 1)[-1] + ".md"
    return own if folder and own in names else None


def explorer(pages: Iterable[tuple[str, str]]) -> FolderEntry:
    """The explorer of the pages ``(src_uri, title)``: docs/ as a folder whose note is the home page
    (``index.md``), every folder holding a page listed with its folders before its pages, both in
    :func:`natural_key` order of their file names (as Obsidian sorts, not by title)."""
    by_folder: dict[str, dict[str, str]] = {}  # folder -> file name -> title
    for src_uri, title in pages:
        folder, _, name = src_uri.rpartition("/")
        by_folder.setdefault(folder, {})[name] = title
        while folder:  # every folder above a page exists, even with no page of its own
            folder = folder.rpartition("/")[0]
            by_folder.setdefault(folder, {})
    subfolders: dict[str, list[str]] = {}
    for folder in by_folder:
        if folder:
            subfolders.setdefault(folder.rpartition("/")[0], []).append(folder)

    def build(folder: str) -> FolderEntry:
        files = by_folder[folder]
        note_name = folder_note_of(folder, files)
        note = PageEntry(_join(folder, note_name), files[note_name]) if note_name else None
        folders = sorted(subfolders.get(folder, []), key=lambda f: natural_key(f.rpartition("/")[2]))
        names = sorted((n for n in files if n != note_name), key=lambda n: natural_key(n.removesuffix(".md")))
        children: list[Entry] = [build(f) for f in folders]
        children += [PageEntry(_join(folder, n), files[n]) for n in names]
        return FolderEntry(folder.rpartition("/")[2], folder, note, tuple(children))

    return build("") if by_folder else FolderEntry("", "", None, ())


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def nav_config(folder: FolderEntry) -> list:
    """The explorer as a ``nav:`` of mkdocs.yml (for ``notes export``, whose generator has no site hook to
    build it): each folder a section holding its folder note first, then its folders and pages, each
    page under its title."""
    items: list = [{folder.note.title: folder.note.src_uri}] if folder.note is not None else []
    for child in folder.children:
        if isinstance(child, PageEntry):
            items.append({child.title: child.src_uri})
        else:
            items.append({child.title: nav_config(child)})
    return items
