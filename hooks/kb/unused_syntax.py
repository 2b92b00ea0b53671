"""A Python-Markdown extension: a document is converted without the Obsidian syntax it cannot contain.

Python-Markdown tries every inline pattern on every run of text of a page, and every block processor
on every block. The syntax this site adds for Obsidian's notes (math for arithmatex and
hooks.kb.display_math, ``==highlight==`` and ``~~strike~~`` for pymdownx.mark and pymdownx.tilde) is
three more inline patterns and a block processor, tried on every page though most pages have no
formula and no highlight: at 1,000 notes that was a sixth of the inline patterns' calls (145,000).
pymdownx.tasklist's tree processor visits every list item of every page for a checkbox that few
notes have (about 0.2 ms a page, timed over 400 notes).

Each processor named in :data:`GATED` can only match text that contains one of its trigger strings.
Before each conversion this extension puts back what it left out of the previous one, then leaves
out every gated processor whose triggers occur nowhere in the document, so the output is the same as
with all of them (the tests of tests/test_obsidian.py convert with and without it). It looks at the
text after the preprocessors that bring text in (pymdownx.snippets) and before any of them stashes
raw HTML away, so Markdown inside ``<div markdown>`` counts too.
"""
from __future__ import annotations

import re

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

# Where each gated processor is registered, and the strings one of which any text it matches contains.
# None: the characters of the processor's own pattern, an alternation of single characters
# (pymdownx's delimiter processor, which mark and tilde share, matches '=|\~').
GATED: dict[str, dict[str, tuple[str, ...] | None]] = {
    "inlinePatterns": {
        "arithmatex-inline": ("$", "\\("),
        "kb-display-math": ("$$",),
        "delimiter": None,
    },
    "blockprocessors": {
        "arithmatex-block": ("$$", "\\[", "\\begin"),
    },
    "treeprocessors": {
        "task-list": ("[ ]", "[x]", "[X]"),  # pymdownx.tasklist: a list item that starts with its checkbox
    },
}
PRIORITY = 31  # after pymdownx.snippets (32) brings files in, before normalize_whitespace (30) and HTML stashing (20)
_SINGLE_CHAR = re.compile(r"\\?(.)")


def _pattern_chars(processor) -> tuple[str, ...] | None:
    """The characters of a pattern that is an alternation of single (possibly escaped) characters."""
    pattern = getattr(getattr(processor, "compiled_re", None), "pattern", None)
    if not isinstance(pattern, str):
        return None
    chars = []
    for part in pattern.split("|"):
        m = _SINGLE_CHAR.fullmatch(part)
        if m is None:
            return None
        chars.append(m.group(1))
    return tuple(chars)


class _LeaveOut(Preprocessor):
    def __init__(self, md: Markdown):
        super().__init__(md)
        self.left_out: list[tuple[object, object, str, float]] = []  # (registry, processor, name, priority)

    def _registries(self) -> dict[str, object]:
        return {"inlinePatterns": self.md.inlinePatterns, "blockprocessors": self.md.parser.blockprocessors,
                "treeprocessors": self.md.treeprocessors}

    def run(self, lines: list[str]) -> list[str]:
        for registry, processor, name, priority in self.left_out:  # what the previous document did without
            if name not in registry:
                registry.register(processor, name, priority)
        self.left_out = []
        text = "\n".join(lines)
        for where, registry in self._registries().items():
            priorities = {item.name: item.priority for item in registry._priority}
            for name, triggers in GATED[where].items():
                if name not in registry:
                    continue
                processor = registry[name]
                triggers = triggers if triggers is not None else _pattern_chars(processor)
                if triggers is None or any(t in text for t in triggers):
                    continue
                self.left_out.append((registry, processor, name, priorities[name]))
                registry.deregister(name)
        return lines


class UnusedSyntaxExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        md.preprocessors.register(_LeaveOut(md), "kb-unused-syntax", PRIORITY)


def makeExtension(**kwargs) -> UnusedSyntaxExtension:  # noqa: N802 - Python-Markdown's entry point
    return UnusedSyntaxExtension(**kwargs)
