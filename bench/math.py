"""``python -m bench.math [--notes N]``: what math costs, for each way of rendering it; prints a Markdown report.

The same synthetic site (bench.synth, this project's layout and site hook) is built twice: once with a
math-heavy paragraph in every note (10 inline formulas and 2 displayed ones, the TeX of a study note), once
with the same paragraph where each formula is replaced by a word; builds alternate and their CPU time
is compared (wall time on a shared machine says more about the neighbours). The difference is what math adds to the
build as this site renders it: pymdownx.arithmatex leaves TeX in the page, KaTeX renders it in the browser.

The two alternatives are measured on the same formulas: KaTeX at build time (one Node.js process renders
every formula, HTML and MathML) and MathML at build time (KaTeX's MathML output, no script, style sheet or
font). Page weight: what one note sends, and what a browser fetches for math on its first math page.
"""
from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import os
import subprocess
import tempfile
from pathlib import Path

from bench import synth
from bench.common import PROJECT_ROOT, mkdocs_build, table

INLINE = [
    r"\nabla_\theta L", r"\theta \leftarrow \theta - \eta \nabla_\theta L", r"\|x\|_2", r"w_{i,j}^{(t)}",
    r"\mathbb{E}[\ell(f(x), y)]", r"\sigma^2", r"p \gg n", r"\hat\beta", r"\lambda \|w\|_2^2", r"O(n \log n)",
]
DISPLAY = [
    r"\hat\beta = (X^\top X)^{-1} X^\top y",
    r"\mathcal{L}(\theta) = -\frac{1}{N}\sum_{i=1}^{N} \log p_\theta(y_i \mid x_i)",
]
KATEX = PROJECT_ROOT / "node_modules" / "katex"


def math_paragraph(with_math: bool) -> str:
    inline = [f"${tex}$" if with_math else "formula" for tex in INLINE]
    display = [f"$$\n{tex}\n$$" if with_math else "A displayed formula." for tex in DISPLAY]
    return ("\n\n## Math\n\nThe update " + ", then ".join(inline) + ".\n\n" + "\n\n".join(display) + "\n")


def write_site(root: Path, notes: int, with_math: bool) -> Path:
    config = synth.write_site(root, notes, "hooks")
    for path in (root / "docs" / "notes").glob("*.md"):
        path.write_text(path.read_text(encoding="utf-8") + math_paragraph(with_math), encoding="utf-8")
    return config


def node_render(formulas: list[tuple[str, bool]], output: str) -> tuple[float, int]:
    """CPU seconds one Node.js process takes to render ``formulas`` with KaTeX (start-up included), and the bytes of HTML."""
    script = (
        "const katex = require(process.argv[1]); const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "let bytes = 0; for (const [tex, display] of input) bytes += katex.renderToString(tex, {displayMode: display, output: process.argv[2]}).length;"
        "process.stdout.write(String(bytes));"
    )
    before = os.times()
    done = subprocess.run(["node", "-e", script, str(KATEX), output], input=json.dumps(formulas), capture_output=True, text=True, check=True)
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system), int(done.stdout)


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), 9))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.math", description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="dl-notes-math-"))
    try:
        times: dict[bool, list[float]] = {False: [], True: []}
        sizes = {}
        configs = {with_math: write_site(tmp / ("math" if with_math else "plain"), args.notes, with_math) for with_math in (False, True)}
        for _ in range(args.repeats):  # interleaved, so that a busy machine slows both alike
            for with_math, config in configs.items():
                times[with_math].append(mkdocs_build(config, config.parent / "site").cpu_s)  # CPU time: steady on a busy machine
        for with_math, config in configs.items():
            note = next((config.parent / "site" / "notes").glob("*/index.html"))
            sizes[with_math] = (note.stat().st_size, gz(note))
        formulas = [(tex, False) for tex in INLINE] + [(tex, True) for tex in DISPLAY]
        everything = formulas * args.notes
        katex_s, katex_bytes = node_render(everything, "htmlAndMathml")
        mathml_s, mathml_bytes = node_render(everything, "mathml")
        tex_bytes = sum(len(tex) + 30 for tex, _ in formulas)  # the TeX and arithmatex's <span class="arithmatex">\(...\)</span>
        plain_s, math_s = statistics.median(times[False]), statistics.median(times[True])
        dist = KATEX / "dist"
        fonts = ["KaTeX_Main-Regular.woff2", "KaTeX_Math-Italic.woff2", "KaTeX_Size1-Regular.woff2", "KaTeX_AMS-Regular.woff2"]
        first_visit = gz(dist / "katex.min.js") + gz(dist / "katex.min.css") + sum((dist / "fonts" / f).stat().st_size for f in fonts)
        print(f"# What math costs ({args.notes} notes, {len(INLINE)} inline and {len(DISPLAY)} displayed formulas each, "
              f"median of {args.repeats} builds)\n")
        print(table(
            ["renderer", "build, CPU (s)", "added to the build", "one note's HTML (gzip)", "fetched for math, first math page (gzip)"],
            [
                ["no math (the same notes, formulas as words)", f"{plain_s:.2f}", "", f"{sizes[False][1]:,} B", ""],
                ["TeX in the page, KaTeX in the browser (chosen)", f"{math_s:.2f}", f"{math_s - plain_s:+.2f} s",
                 f"{sizes[True][1]:,} B", f"{first_visit:,} B (script, style sheet, 4 fonts; cached after)"],
                ["KaTeX at build time (HTML + MathML)", f"{plain_s + katex_s:.2f} (est.)", f"+{katex_s:.2f} s (Node.js)",
                 f"{sizes[True][1] + (katex_bytes - tex_bytes * args.notes) // args.notes // 4:,} B (est.)",
                 f"{gz(dist / 'katex.min.css') + sum((dist / 'fonts' / f).stat().st_size for f in fonts):,} B (style sheet, fonts)"],
                ["MathML at build time (KaTeX's MathML output)", f"{plain_s + mathml_s:.2f} (est.)", f"+{mathml_s:.2f} s (Node.js)",
                 f"{sizes[True][1] + (mathml_bytes - tex_bytes * args.notes) // args.notes // 4:,} B (est.)", "0 B"],
            ],
        ))
        print(f"\nBuilds (CPU s), without math: {', '.join(f'{t:.2f}' for t in times[False])}; with: {', '.join(f'{t:.2f}' for t in times[True])}.")
        print(f"KaTeX's HTML for one note's {len(formulas)} formulas: {katex_bytes // args.notes:,} B before gzip "
              f"(MathML alone {mathml_bytes // args.notes:,} B), against {tex_bytes:,} B of TeX. Estimated sizes assume gzip "
              "shrinks KaTeX's repetitive markup about fourfold.")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
