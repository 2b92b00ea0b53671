"""What every demo shares: light and dark figure styles, byte-stable figure files, data.json, a CLI.

A demo module defines

* ``Config``: a ``@dataclass`` of scalar fields (int, float, bool, str), each with a default and a
  one-line comment; it always has ``seed: int``;
* ``FIGURES``: a dict literal ``{figure_name: one-line description}``;
* ``run(cfg, out_dir, device) -> dict``: trains and measures, writes every figure of ``FIGURES`` in
  both themes with :func:`save_figure` (with ``narrow=True``: also laid out for a phone's width) and
  the numbers behind them with :func:`write_data`, and returns those numbers;
* ``phenomenon(data) -> list[Claim]``: the demo's headline numbers, read from what ``run`` returned
  (or from its ``data.json``), each with whether the phenomenon it stands for holds. The demo's test
  and ``make science`` (``bench/science.py``, every demo at several seeds) both ask this one function;
* optionally ``TIMEOUT_S = <seconds>`` when its default run needs longer than the site default.
* optionally ``LIMITS = {field: (low, high)}``: the range a numeric parameter may take (None: open),
  checked for a page's overrides and for ``--set`` alike.

The build reads ``Config`` and ``FIGURES`` from the source without importing the demo (so a build
with everything cached never imports torch); keep both as plain literals.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

THEMES = ("light", "dark")

# Colours chosen to read on Material's white page and on its slate (dark) page alike.
_PALETTE = {
    "light": {
        "fg": "#1f2328",
        "muted": "#59636e",
        "grid": "#d0d7de",
        "cycle": ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"],
        "cmap": "viridis",
    },
    "dark": {
        "fg": "#e6edf3",
        "muted": "#9198a1",
        "grid": "#3d444d",
        "cycle": ["#58a6ff", "#ff7b72", "#3fb950", "#d2a8ff", "#ffa657", "#56d4dd", "#e3b341"],
        "cmap": "magma",
    },
}


@dataclasses.dataclass(frozen=True)
class Theme:
    """Colours of one palette, handed to a demo's drawing function."""

    name: str
    fg: str
    muted: str
    grid: str
    cycle: tuple[str, ...]
    cmap: str

    def color(self, i: int) -> str:
        return self.cycle[i % len(self.cycle)]


def theme(name: str) -> Theme:
    p = _PALETTE[name]
    return Theme(name, p["fg"], p["muted"], p["grid"], tuple(p["cycle"]), p["cmap"])


def _rc(t: Theme) -> dict[str, Any]:
    from cycler import cycler

    return {
        "figure.facecolor": "none",
        "axes.facecolor": "none",
        "savefig.facecolor": "none",
        "savefig.transparent": True,
        "text.color": t.fg,
        "axes.labelcolor": t.fg,
        "axes.edgecolor": t.muted,
        "axes.titlecolor": t.fg,
        "xtick.color": t.muted,
        "ytick.color": t.muted,
        "xtick.labelcolor": t.fg,
        "ytick.labelcolor": t.fg,
        "grid.color": t.grid,
        "axes.grid": True,
        "grid.linewidth": 0.6,
        "axes.prop_cycle": cycler(color=list(t.cycle)),
        "legend.frameon": False,
        "font.size": 10,
        "axes.titlesize": 11,
        "figure.dpi": 100,
        "svg.hashsalt": "dl-notes",  # fixed ids: identical inputs give identical files
        "svg.fonttype": "path",
        "image.cmap": t.cmap,
    }


# The narrow variant of a figure, shown on a phone: the page's content frame is 358 CSS px wide there,
# and a browser shows 1 pt of an SVG as 4/3 px, so the written SVG is at most 268 pt wide; every text
# at that size is at least 11 px, 8.25 pt. A narrow figure is NARROW_WIDTH_IN wide before
# bbox_inches="tight" adds its 0.1 in margins, its panels are stacked, its smallest font is 9 pt (rc
# font.size; ticks, legends and labels follow it) and its titles are 10 pt, wrapped with wrap().
NARROW_MAX_WIDTH_PT = 268.0
NARROW_MIN_FONT_PT = 8.25
NARROW_WIDTH_IN = 3.5
NARROW_FONT = 9.0
NARROW_TITLE = 10.0
NARROW_TEXT_IN = 2.9  # the width a title or note of a narrow figure is wrapped to (it is centred on the axes)


def _rc_narrow(t: Theme) -> dict[str, Any]:
    return {**_rc(t), "font.size": NARROW_FONT, "axes.titlesize": NARROW_TITLE, "figure.titlesize": NARROW_TITLE,
            "legend.fontsize": NARROW_FONT, "legend.title_fontsize": NARROW_FONT}


_GLUE = {"=", "≈", "≤", "≥", "<", ">", "+", "−", "-", "×", "÷", "·", "/", "→"}


def wrap(text: str, fontsize: float = NARROW_TITLE, width_in: float = NARROW_TEXT_IN, lines: int = 0) -> str:
    """``text`` with its own line breaks dropped, broken into lines at most ``width_in`` wide at ``fontsize``.

    Widths are measured with the font matplotlib draws with (not counted in characters); a word wider
    than the line stands alone, and an operator standing between spaces (``p = n``, ``a + b``) stays
    on the line of the words on either side. For the titles, notes and legend entries of a narrow figure.
    ``lines``: at least this many, empty ones first: a swept figure whose title is shorter for some
    values keeps its height, so that the slider under it stays where it is.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(size=fontsize)
    limit = width_in * 72

    def width(s: str) -> float:
        return text_to_path.get_text_width_height_descent(s, prop, ismath=False)[0]

    space = width("a a") - width("aa")

    units: list[str] = []  # words, with operators glued to their neighbours
    glue_next = False
    for word in text.replace("\n", " ").split():
        if units and (glue_next or word in _GLUE):
            units[-1] = f"{units[-1]} {word}"
        else:
            units.append(word)
        glue_next = word in _GLUE
    out: list[str] = []
    used = 0.0  # the width of the last line: its units' widths and the spaces between them
    for unit in units:
        w = width(unit)
        if out and used + space + w <= limit:
            out[-1] = f"{out[-1]} {unit}"
            used += space + w
        else:
            out.append(unit)
            used = w
    return "\n".join([""] * (lines - len(out)) + out)


def narrow_subplots(heights: tuple[float, ...] = (2.4,), **kwargs):
    """A narrow figure of ``len(heights)`` panels stacked in one column, NARROW_WIDTH_IN wide, in
    constrained layout; returns ``(fig, [axes...])``. Call :func:`fit_height` once it is drawn."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(heights), 1, figsize=(NARROW_WIDTH_IN, sum(heights) + 2.5 * len(heights)), squeeze=False,
                             layout="constrained", gridspec_kw={"height_ratios": list(heights)}, **kwargs)
    return fig, list(axes[:, 0])


def fit_height(fig, axes, heights: tuple[float, ...]):
    """Set the height of a figure in constrained layout so that ``axes`` are ``heights`` (in) tall,
    whatever room their titles, labels and legends take; returns the figure."""
    import warnings

    for _ in range(6):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.draw_without_rendering()
        if any("collapsed" in str(w.message) for w in caught):  # too short to lay out at all
            fig.set_figheight(2 * fig.get_figheight())
            continue
        actual = sum(ax.get_position().height for ax in axes) * fig.get_figheight()
        if abs(actual - sum(heights)) < 0.05:
            break
        fig.set_figheight(fig.get_figheight() + sum(heights) - actual)
    # The layout is final: saving the figure (which draws it twice) need not compute it again.
    fig.set_layout_engine("none")
    return fig


def legend_below(ax, handles=None, labels=None, *, below_pt: float | None = None, ncol: int = 1, **kwargs):
    """A narrow figure's legend under the axes, in ``ncol`` columns, each entry wrapped to its
    column's width; ``below_pt`` under the axes' bottom edge (by default: under the tick labels and
    the lines of the x label)."""
    from matplotlib.transforms import offset_copy

    if below_pt is None:
        xlabel = ax.get_xlabel()
        below_pt = 23 + 1.25 * NARROW_FONT * (xlabel.count("\n") + 1) if xlabel else 22
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    labels = [wrap(label, NARROW_FONT, NARROW_TEXT_IN / ncol - 0.45) for label in labels]
    anchor = offset_copy(ax.transAxes, fig=ax.figure, y=-below_pt, units="points")
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=anchor, ncol=ncol, **kwargs)


_FONT_RECORDS: list[dict[str, float]] = []


def smallest_font_pt(fig) -> float:
    """The smallest size in pt of a visible, non-empty text of a drawn figure (tick labels are set by
    drawing it). A mathtext sub- or superscript counts at matplotlib's 0.7 of its text's size."""
    from matplotlib.text import Text

    sizes = []
    for text in fig.findobj(Text):
        s = text.get_text()
        if not text.get_visible() or not s.strip():
            continue
        size = text.get_fontsize()
        if text.get_parse_math() and s.count("$") >= 2 and re.search(r"[_^]", s):
            size *= 0.7
        sizes.append(size)
    return min(sizes, default=math.inf)


@contextlib.contextmanager
def recording_fonts():
    """Within this block, :func:`save_figure` records for every file it writes the smallest font of
    its figure (:func:`smallest_font_pt`), as ``{file name: pt}`` in the dict it yields (for tests)."""
    record: dict[str, float] = {}
    _FONT_RECORDS.append(record)
    try:
        yield record
    finally:
        _FONT_RECORDS.remove(record)


def save_figure(draw: Callable[..., Any], out_dir: str | os.PathLike[str], name: str, narrow: bool = False) -> list[Path]:
    """Draw a figure once per theme and write ``NAME-light.svg`` and ``NAME-dark.svg``.

    ``draw(theme)`` must create and return a matplotlib Figure using the rc settings in force
    (colours from ``theme`` where it picks its own). With ``narrow=True`` it is also called as
    ``draw(theme, narrow=True)``, under the narrow rc settings (9 pt text, 10 pt titles), and must then
    return the figure laid out for a phone (see NARROW_WIDTH_IN above), written as
    ``NAME-narrow-light.svg`` and ``NAME-narrow-dark.svg``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for variant in ("", "-narrow") if narrow else ("",):
        for name_ in THEMES:
            t = theme(name_)
            with plt.rc_context(_rc_narrow(t) if variant else _rc(t)):
                fig = draw(t, narrow=True) if variant else draw(t)
                path = out / f"{name}{variant}-{name_}.svg"
                fig.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
                _number_clip_paths(path)
                for record in _FONT_RECORDS:
                    record[path.name] = smallest_font_pt(fig)
                plt.close(fig)
            written.append(path)
    return written


_CLIP_ID = re.compile(r'<clipPath id="(p[0-9a-f]+)"')


def _number_clip_paths(path: Path) -> None:
    """Give the clip paths of a written SVG ids by their order in the file. matplotlib names a clip path
    by a hash that, for a clip that is a path rather than a rectangle, takes in the memory address of
    the path object (``svg.hashsalt`` does not help there): the same figure drawn in two processes got
    two names, and two runs of one demo two files."""
    text = path.read_text(encoding="utf-8")
    ids = list(dict.fromkeys(_CLIP_ID.findall(text)))
    if not ids:
        return
    names = {old: f"kbclip{i}" for i, old in enumerate(ids, start=1)}
    text = re.sub(r"\b(" + "|".join(map(re.escape, ids)) + r")\b", lambda m: names[m.group(1)], text)
    path.write_text(text, encoding="utf-8")


def svg_width_pt(path: str | os.PathLike[str]) -> float:
    """The width of a written SVG in pt (matplotlib writes ``width="...pt"`` on the root element)."""
    head = Path(path).read_text(encoding="utf-8")[:2000]
    m = re.search(r'<svg\b[^>]*?\swidth="([0-9.]+)pt"', head)
    if not m:
        raise ValueError(f"{path}: no width in pt on the root svg element")
    return float(m.group(1))


def narrow_problems(out_dir: str | os.PathLike[str], figures, fonts: dict[str, float]) -> list[str]:
    """What breaks the narrow-variant contract for ``figures`` (names) written under ``out_dir``: a
    missing file, an SVG wider than NARROW_MAX_WIDTH_PT, a text smaller than NARROW_MIN_FONT_PT
    (``fonts`` from :func:`recording_fonts`). Empty when all is well; a test asserts that."""
    problems = []
    for fig in figures:
        for th in THEMES:
            path = Path(out_dir) / f"{fig}-narrow-{th}.svg"
            if not path.is_file():
                problems.append(f"{path.name}: not written")
                continue
            if (w := svg_width_pt(path)) > NARROW_MAX_WIDTH_PT:
                problems.append(f"{path.name}: {w:g} pt wide (at most {NARROW_MAX_WIDTH_PT:g})")
            if path.name not in fonts:
                problems.append(f"{path.name}: its fonts were not recorded")
            elif fonts[path.name] < NARROW_MIN_FONT_PT:
                problems.append(f"{path.name}: a text of {fonts[path.name]:g} pt (at least {NARROW_MIN_FONT_PT:g})")
    return problems


# The wide variant of a figure, shown on a laptop: the page's content column is 688 CSS px wide in a
# 1280 px window, and a browser scales a wider figure down to fit it. Every text at its displayed size
# must be at least 11 CSS px: at most WIDE_MAX_WIDTH_PT wide (688 px) a figure's smallest font is at
# least 8.25 pt; a wider one would need its fonts grown in proportion (better: make it narrower).
WIDE_COLUMN_PX = 688.0
WIDE_MIN_TEXT_PX = 11.0
WIDE_MAX_WIDTH_PT = WIDE_COLUMN_PX * 3 / 4  # 516 pt, 7.17 in with bbox_inches="tight"'s margins


def wide_text_px(width_pt: float, font_pt: float) -> float:
    """The CSS px size of a ``font_pt`` text in an SVG ``width_pt`` wide shown in the laptop column."""
    scale = min(1.0, WIDE_COLUMN_PX / (width_pt * 4 / 3))
    return font_pt * 4 / 3 * scale


def wide_problems(out_dir: str | os.PathLike[str], figures, fonts: dict[str, float]) -> list[str]:
    """What breaks the wide-variant contract for ``figures`` (names) written under ``out_dir``: a
    missing file, or a text under WIDE_MIN_TEXT_PX CSS px once the SVG is scaled into the 688 px
    column (``fonts`` from :func:`recording_fonts`). Empty when all is well; a test asserts that."""
    problems = []
    for fig in figures:
        for th in THEMES:
            path = Path(out_dir) / f"{fig}-{th}.svg"
            if not path.is_file():
                problems.append(f"{path.name}: not written")
                continue
            if path.name not in fonts:
                problems.append(f"{path.name}: its fonts were not recorded")
                continue
            w, f = svg_width_pt(path), fonts[path.name]
            if (px := wide_text_px(w, f)) < WIDE_MIN_TEXT_PX:
                problems.append(f"{path.name}: {w:g} pt wide, a text of {f:g} pt shows at {px:.2f} CSS px "
                                f"(at least {WIDE_MIN_TEXT_PX:g}; at most {WIDE_MAX_WIDTH_PT:g} pt wide needs 8.25 pt)")
    return problems


@dataclasses.dataclass(frozen=True)
class Claim:
    """One headline number of a demo and whether the phenomenon it stands for holds.

    ``holds`` is None for a number that is reported but not claimed (where a model stands against a
    baseline it is not expected to beat, for instance). ``deterministic`` marks a claim that does not
    depend on the seed (an operation count, a formula, the spectrum of a fixed kernel): it comes out
    the same on every seed, so ``make science`` shows it as one check, not as one per seed.
    """

    what: str  # the claim in words, with its threshold: "held-out accuracy ≥ 0.9"
    value: str  # the number(s) behind it, formatted for a table: "0.998"
    holds: bool | None
    deterministic: bool = False  # the same value whatever the seed


def failed_claims(claims: list[Claim]) -> list[Claim]:
    """The claims that do not hold (a test asserts this list is empty)."""
    return [c for c in claims if c.holds is False]


class AdamW:
    """AdamW (Loshchilov & Hutter, arXiv 1711.05101) written out in a few lines.

    Why not ``torch.optim.AdamW``: its first use imports PyTorch's compiler stack, about 2.5 s of CPU,
    a tenth of a demo's budget. The update is the textbook one: decoupled weight decay, then Adam's
    bias-corrected first and second moments. Decay applies to parameters with at least
    ``decay_ndim`` dimensions (weight matrices and embeddings; decaying biases and layer-norm gains
    only hurts). Set ``lr`` between steps to follow a schedule.
    """

    def __init__(self, params, lr: float, weight_decay: float = 0.0, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, decay_ndim: int = 2):
        import torch

        self.params = [p for p in params if p.requires_grad]
        self.decay = [weight_decay if p.dim() >= decay_ndim else 0.0 for p in self.params]
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0

    def step(self) -> None:
        import torch

        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        with torch.no_grad():
            for p, m, v, wd in zip(self.params, self.m, self.v, self.decay):
                if wd:
                    p.mul_(1 - self.lr * wd)
                m.lerp_(p.grad, 1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                p.addcdiv_(m, (v / c2).sqrt_().add_(self.eps), value=-self.lr / c1)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


def plain_log_axis(axis) -> None:
    """Label a log axis 0.1, 1, 10 in plain text and drop its minor ticks (mathtext is slow to draw)."""
    from matplotlib.ticker import FormatStrFormatter, NullLocator

    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_locator(NullLocator())


def short_log_axis(axis) -> None:
    """Label a log axis 0.001, 0.1, 1, 10000, 1e5, 1e-4 (no superscripts, which a narrow figure's
    smallest font forbids: a mathtext exponent is drawn at 0.7 of its label's size) and drop its minor
    ticks."""
    from matplotlib.ticker import FuncFormatter, NullLocator

    def label(v: float, _pos) -> str:
        if not v or 1e-3 <= abs(v) < 1e5:
            return f"{v:g}"
        mantissa, exponent = f"{v:.6e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"

    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_locator(NullLocator())


def to_plain(x: Any) -> Any:
    """Turn tensors, arrays and numpy scalars into JSON numbers and lists (NaN/inf become null)."""
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().cpu().numpy()
    if hasattr(x, "tolist"):  # numpy array or scalar
        x = x.tolist()
    if isinstance(x, dict):
        return {str(k): to_plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_plain(v) for v in x]
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    return x


def write_data(out_dir: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """Write the numbers behind the figures as ``data.json`` (sorted keys, stable formatting)."""
    path = Path(out_dir) / "data.json"
    path.write_text(json.dumps(to_plain(data), indent=1, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
    return path


def pick_device(device: str) -> str:
    """Resolve ``auto`` to ``cuda`` when a GPU is usable, else ``cpu``."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def seed_everything(seed: int) -> None:
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _field_kind(field: dataclasses.Field) -> str:
    """The name of a Config field's type: ``"int"`` whether annotations are strings or types."""
    return field.type if isinstance(field.type, str) else getattr(field.type, "__name__", str(field.type))


def demo_main(config_cls: type, run: Callable[..., dict], argv: list[str] | None = None) -> None:
    """``python -m demos.NAME --out DIR [--set key=value ...] [--device D]``.

    ``--set`` values go through the build's own coercion (hooks.figures.spec.coerce_param, which
    imports neither torch nor MkDocs) with this demo's ``LIMITS``: the command line refuses, with the
    same words, every value a page may not ask for.
    """
    from hooks.figures.spec import DemoError, coerce_param

    parser = argparse.ArgumentParser(description=(run.__module__ or "demo"))
    parser.add_argument("--out", default="demo-out", help="folder for figures and data.json")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    args = parser.parse_args(argv)
    module = sys.modules.get(config_cls.__module__)
    source = getattr(module, "__file__", None)
    demo = Path(source).stem if source else config_cls.__module__.rsplit(".", 1)[-1]  # run as __main__: the file names it
    kinds = {f.name: _field_kind(f) for f in dataclasses.fields(config_cls)}
    limits = getattr(module, "LIMITS", {})
    overrides = {}
    for item in args.set:
        key, sep, raw = item.partition("=")
        if not sep:
            parser.error(f"--set {item!r} is not KEY=VALUE; known keys: {', '.join(kinds)}")
        try:
            overrides[key] = coerce_param(demo, kinds, limits, key, raw)
        except DemoError as exc:
            parser.error(exc.message)
    import torch

    torch.set_num_threads(1)
    cfg = config_cls(**overrides)
    seed_everything(cfg.seed)
    data = run(cfg, Path(args.out), pick_device(args.device))
    print(json.dumps({k: (v if not isinstance(v, (list, dict)) else "...") for k, v in data.items()}, default=str))
