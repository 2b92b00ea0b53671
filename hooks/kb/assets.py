"""Front-end files the site serves itself: KaTeX and mermaid from ``node_modules/`` (installed by make from
package-lock.json) and the small script that renders math and diagrams with them, on the pages that have some.

Only what a browser fetches is published: KaTeX's script, style sheet and WOFF2 fonts (every browser
that runs KaTeX reads WOFF2) and mermaid's single-file build.
"""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = PROJECT_ROOT / "node_modules"
SCRIPT = "assets/kb/obsidian.js"  # where the script lies in the site; it finds the rest beside it
VENDOR = "assets/vendor"
_SCRIPT_SOURCE = Path(__file__).resolve().parent / "static" / "obsidian.js"


class AssetsMissing(Exception):
    """node_modules lacks a file the site serves."""


def site_assets(node_modules: Path = NODE_MODULES) -> dict[str, Path]:
    """Where each front-end file goes in the site (a path from its root) and where it is read from.

    Raises AssetsMissing naming the first missing file and how to install it.
    """
    katex = node_modules / "katex" / "dist"
    wanted = {
        SCRIPT: _SCRIPT_SOURCE,
        f"{VENDOR}/katex/katex.min.js": katex / "katex.min.js",
        f"{VENDOR}/katex/katex.min.css": katex / "katex.min.css",
        f"{VENDOR}/mermaid/mermaid.min.js": node_modules / "mermaid" / "dist" / "mermaid.min.js",
    }
    for path, source in wanted.items():
        if not source.is_file():
            raise AssetsMissing(f"{source} is missing; run 'make' (or 'npm ci') in {PROJECT_ROOT} to install the site's math and diagram assets")
    fonts = sorted((katex / "fonts").glob("*.woff2"))
    if not fonts:
        raise AssetsMissing(f"KaTeX's fonts are missing from {katex / 'fonts'}; run 'make' (or 'npm ci') in {PROJECT_ROOT}")
    wanted.update({f"{VENDOR}/katex/fonts/{font.name}": font for font in fonts})
    return wanted
