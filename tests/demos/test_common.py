"""What demos/_common.py gives every demo's figures: the narrow variant for a phone and its checks."""
from __future__ import annotations

from demos._common import (NARROW_MAX_WIDTH_PT, fit_height, narrow_problems, narrow_subplots, recording_fonts,
                           save_figure, smallest_font_pt, svg_width_pt, wide_problems, wide_text_px, wrap)


def _draw(t, narrow: bool = False, title: str = "a title"):
    import matplotlib.pyplot as plt

    if narrow:
        fig, (ax,) = narrow_subplots((2.4,))
    else:
        fig, ax = plt.subplots(figsize=(7.2, 4.0))
    ax.plot([1, 2, 3], [1, 4, 9], color=t.color(0), label="a curve")
    ax.set_title(wrap(title) if narrow else title)
    ax.set_xlabel("x")
    ax.legend()
    return fit_height(fig, [ax], (2.4,)) if narrow else fig


def test_save_figure_writes_the_narrow_variant_only_when_asked(tmp_path):
    wide = save_figure(lambda t: _draw(t), tmp_path / "wide", "f")
    assert [p.name for p in wide] == ["f-light.svg", "f-dark.svg"]
    with recording_fonts() as fonts:
        both = save_figure(lambda t, narrow=False: _draw(t, narrow), tmp_path / "both", "f", narrow=True)
    assert [p.name for p in both] == ["f-light.svg", "f-dark.svg", "f-narrow-light.svg", "f-narrow-dark.svg"]
    # The wide files do not change when a narrow variant is drawn beside them; the run is byte-stable.
    for name in ("f-light.svg", "f-dark.svg"):
        assert (tmp_path / "wide" / name).read_bytes() == (tmp_path / "both" / name).read_bytes()
    again = save_figure(lambda t, narrow=False: _draw(t, narrow), tmp_path / "again", "f", narrow=True)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in both]
    # Narrow: at most 268 pt wide (358 CSS px), 9 pt text at the smallest (ticks and legend follow rc).
    assert svg_width_pt(tmp_path / "both" / "f-narrow-light.svg") <= NARROW_MAX_WIDTH_PT < svg_width_pt(tmp_path / "both" / "f-light.svg")
    assert fonts["f-narrow-light.svg"] == fonts["f-narrow-dark.svg"] == 9.0
    assert fonts["f-light.svg"] == 10.0
    assert narrow_problems(tmp_path / "both", ["f"], fonts) == []


def test_narrow_problems_names_what_breaks_the_contract(tmp_path):
    import matplotlib.pyplot as plt

    def small(t, narrow=False):
        fig, ax = plt.subplots(figsize=(7.2 if narrow else 3, 2))  # too wide when narrow
        ax.text(0.5, 0.5, "tiny", fontsize=7)
        return fig

    with recording_fonts() as fonts:
        save_figure(small, tmp_path, "g", narrow=True)
    save_figure(small, tmp_path, "h")  # no narrow variant, and not recorded
    problems = narrow_problems(tmp_path, ["g", "h"], fonts)
    assert any(p.startswith("g-narrow-light.svg:") and "pt wide" in p for p in problems), problems
    assert any(p.startswith("g-narrow-dark.svg:") and "a text of 7 pt" in p for p in problems), problems
    assert "h-narrow-light.svg: not written" in problems and "h-narrow-dark.svg: not written" in problems


def test_wide_problems_scale_text_into_the_laptop_column(tmp_path):
    import matplotlib.pyplot as plt

    # 516 pt is the 688 px column: up to it a text keeps its size, past it it shrinks in proportion.
    assert wide_text_px(516, 8.25) == 11.0 and wide_text_px(300, 9) == 12.0
    assert abs(wide_text_px(1032, 9) - 6.0) < 1e-9

    def fig_of(width_in, size):
        def draw(t, narrow=False):
            fig, ax = plt.subplots(figsize=(width_in, 2))
            ax.text(0.5, 0.5, "text", fontsize=size)
            ax.tick_params(labelsize=size)
            return fig
        return draw

    with recording_fonts() as fonts:
        save_figure(fig_of(6.5, 9), tmp_path, "ok")
        save_figure(fig_of(10, 9), tmp_path, "wide")  # 9 pt scaled by about 0.7
        save_figure(fig_of(5, 7), tmp_path, "small")  # not scaled, but 7 pt is 9.3 px
    save_figure(fig_of(5, 9), tmp_path, "unrecorded")
    problems = wide_problems(tmp_path, ["ok", "wide", "small", "unrecorded", "missing"], fonts)
    assert not [p for p in problems if p.startswith("ok-")], problems
    assert any(p.startswith("wide-light.svg:") and "CSS px" in p for p in problems), problems
    assert any(p.startswith("small-dark.svg:") and "a text of 7 pt" in p for p in problems), problems
    assert "unrecorded-light.svg: its fonts were not recorded" in problems
    assert "missing-dark.svg: not written" in problems


def test_smallest_font_counts_mathtext_exponents():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_title("$T_P$ and text", fontsize=10)
    ax.set_xlabel("x", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.canvas.draw()
    assert abs(smallest_font_pt(fig) - 7.0) < 1e-9  # the subscript: 0.7 of 10 pt
    ax.set_title("T_P, no math", fontsize=10)
    assert smallest_font_pt(fig) == 9.0
    ax.set_title("$T_P$", fontsize=10, parse_math=False)
    assert smallest_font_pt(fig) == 9.0
    plt.close(fig)


def test_wrap_measures_and_keeps_operators_with_their_words():
    text = "Min-norm least squares (σ = 0.5): the risk explodes at p = n, descends again\nfor p > n to a minimum"
    lines = wrap(text, 10, 2.0).split("\n")
    assert len(lines) > 3 and " ".join(lines) == " ".join(text.split())
    assert any("p = n" in line for line in lines) and any("p > n" in line for line in lines)  # never broken
    assert any("(σ = 0.5):" in line for line in lines)
    # At least `lines` lines, blank ones first (a swept figure keeps its height).
    assert wrap("short", lines=3) == "\n\nshort"


def test_short_log_axis_writes_exponents_on_the_line():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from demos._common import short_log_axis

    fig, ax = plt.subplots()
    short_log_axis(ax.yaxis)
    label = ax.yaxis.get_major_formatter()
    assert [label(v, 0) for v in (1e-5, 2.5e-4, 0.001, 0.1, 1, 10000, 1e5, 2e7)] == \
        ["1e-5", "2.5e-4", "0.001", "0.1", "1", "10000", "1e5", "2e7"]
    plt.close(fig)
