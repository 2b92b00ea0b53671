"""A Python-Markdown extension: ``$$ ... $$`` inside a paragraph or a list item is displayed math.

Obsidian shows ``$$`` math as a display wherever it is: right under a line of text, in a list item,
even mid-sentence. pymdownx.arithmatex sees ``$$`` only as a block of its own (and would read
``$$x$$`` inside text as two dollars around ``$x$``), so this pattern, tried just before arithmatex's,
turns every ``$$...$$`` left inside inline text (over one line or several) into arithmatex's generic
output as the site configures it, ``<span class="arithmatex kb-display-math">$$...$$</span>``, which the
site's script draws in display style (a block of its own, as Obsidian shows it; the second class says so
to whatever reads the HTML without running the script, such as the reading-view comparison).
"""
from __future__ import annotations

import xml.etree.ElementTree as etree

from markdown import Extension, Markdown
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString

DISPLAY_RE = r"(?<![\\$])\$\$(?!\$)((?:\\.|[^\\$])+?)\$\$"
DISPLAYED = "kb-display-math"  # the class of a formula shown as a display inside text
PRIORITY = 189.95  # after code spans (190), before arithmatex's inline math (189.9)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class DisplayMathProcessor(InlineProcessor):
    def handleMatch(self, m, data):  # noqa: N802 - Python-Markdown's name
        tex = m.group(1).strip()
        if not tex:
            return None, None, None
        el = etree.Element("span", {"class": f"arithmatex {DISPLAYED}"})
        el.text = AtomicString("$$" + _escape(tex) + "$$")
        return el, m.start(0), m.end(0)


class DisplayMathExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        md.inlinePatterns.register(DisplayMathProcessor(DISPLAY_RE, md), "kb-display-math", PRIORITY)


def makeExtension(**kwargs) -> DisplayMathExtension:  # noqa: N802 - Python-Markdown's entry point
    return DisplayMathExtension(**kwargs)
