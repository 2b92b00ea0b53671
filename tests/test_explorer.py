"""The vault explorer's tree (hooks/kb/explorer.py): natural order, folders first, folder notes, accents."""
from __future__ import annotations

import random

from hooks.kb.explorer import FolderEntry, PageEntry, explorer, folder_note_of, natural_key
from hooks.site import generated_title


def names(folder: FolderEntry) -> list[str]:
    """What a folder lists, as the explorer shows it: folders as 'name/', pages by their file name."""
    return [c.name + "/" if isinstance(c, FolderEntry) else c.src_uri.rsplit("/", 1)[-1] for c in folder.children]


def tree(*uris: str) -> FolderEntry:
    return explorer((u, u.rsplit("/", 1)[-1].removesuffix(".md")) for u in uris)


def test_numbers_sort_by_value_not_by_digit() -> None:
    listed = ["Séance 10.md", "Séance 2 — intégrales.md", "Séance 1.md", "Séance 9.md", "Séance 100.md"]
    assert names(tree(*listed)) == ["Séance 1.md", "Séance 2 — intégrales.md", "Séance 9.md", "Séance 10.md", "Séance 100.md"]


def test_case_and_accents_do_not_split_the_alphabet() -> None:
    listed = ["zeta.md", "Écologie.md", "abc.md", "Eau.md", "été.md", "Faux.md", "Œuvre.md", "oeil.md"]
    # by base letter, without case: é and É sort as e, Œ as oe
    assert names(tree(*listed)) == ["abc.md", "Eau.md", "Écologie.md", "été.md", "Faux.md", "oeil.md", "Œuvre.md", "zeta.md"]


def test_digits_come_before_letters_and_ties_have_one_order() -> None:
    listed = ["b.md", "2 b.md", "10 a.md", "A.md", "a.md"]
    expected = ["2 b.md", "10 a.md", "A.md", "a.md", "b.md"]  # A and a: by code point
    for seed in range(5):  # whatever order the files are listed in
        random.Random(seed).shuffle(listed)
        assert names(tree(*listed)) == expected
    assert natural_key("A") != natural_key("a")


def test_folders_come_before_notes_and_nest() -> None:
    root = tree("Inbox.md", "Zeta/z.md", "Alpha/Deep/Sub 10/x.md", "Alpha/Deep/Sub 2/y.md", "Alpha/b.md", "aardvark.md")
    assert names(root) == ["Alpha/", "Zeta/", "aardvark.md", "Inbox.md"]
    alpha = root.children[0]
    assert isinstance(alpha, FolderEntry) and alpha.path == "Alpha" and names(alpha) == ["Deep/", "b.md"]
    deep = alpha.children[0]
    assert names(deep) == ["Sub 2/", "Sub 10/"]  # a folder with no page of its own is still listed
    assert [p.src_uri for p in root.pages()] == [
        "Alpha/Deep/Sub 2/y.md", "Alpha/Deep/Sub 10/x.md", "Alpha/b.md", "Zeta/z.md", "aardvark.md", "Inbox.md"]


def test_a_folder_note_is_its_folders_page_and_is_not_listed_again() -> None:
    root = tree("index.md", "Cours/Cours.md", "Cours/Séance 1.md", "Projets/index.md", "Projets/Projets.md",
                "Misc/Other.md", "Cours.md")
    assert root.note == PageEntry("index.md", "index")  # docs/index.md: the home page, the root's note
    cours, misc, projets = root.children[:3]
    assert cours.note == PageEntry("Cours/Cours.md", "Cours") and names(cours) == ["Séance 1.md"]
    assert projets.note.src_uri == "Projets/index.md" and names(projets) == ["Projets.md"]  # index.md wins
    assert misc.note is None
    assert names(root)[3:] == ["Cours.md"]  # a note beside its folder is a note (not a folder note)
    assert root.pages()[:3] == [root.note, cours.note, PageEntry("Cours/Séance 1.md", "Séance 1")]


def test_folder_note_conventions() -> None:
    assert folder_note_of("A/Cours", ["x.md", "Cours.md"]) == "Cours.md"
    assert folder_note_of("A/Cours", ["README.md", "Cours.md"]) == "README.md"
    assert folder_note_of("A/Cours", ["cours.md"]) is None  # Obsidian compares file names exactly
    assert folder_note_of("", ["docs.md"]) is None


def test_titles_are_shown_but_file_names_decide_the_order() -> None:
    root = explorer([("b.md", "Aardvark"), ("a.md", "Zebra")])
    assert root.children == (PageEntry("a.md", "Zebra"), PageEntry("b.md", "Aardvark"))


def test_no_pages_is_an_empty_explorer() -> None:
    assert explorer([]) == FolderEntry("", "", None, ())


def test_a_generated_pages_title_reads_past_front_matter() -> None:
    assert generated_title("---\nsearch:\n  exclude: true\n---\n\n# Notes\n\ntext\n")[1] == "Notes"
    assert generated_title("no heading\n") == (None, None)
    assert generated_title("---\ntitle: Demo runs\n---\n\n```\n# not a heading\ntitle: nor a title\n```\n") == ("Demo runs", None)


def test_folders_are_named_as_mkdocs_names_them() -> None:
    root = tree("notes/index.md", "Cours d'analyse/a.md", "deep-learning_2024/b.md", "MixedCase/c.md")
    assert [f.title for f in root.children] == ["Cours d'analyse", "Deep learning 2024", "MixedCase", "Notes"]
