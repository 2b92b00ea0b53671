"""Trainability: how much of a layer's work parallel hardware can do at once.

Vaswani et al. 2017 ("Attention Is All You Need", arXiv 1706.03762, Table 1) compare layers by three
numbers: per-layer work, O(n·d²) for a recurrent layer against O(n²·d) for self-attention; the number
of operations that must happen one after another, O(n) against O(1); and the maximum path length
between two positions, O(n) against O(1). This demo makes those numbers concrete for three layers of
width d on one sequence of n tokens, and then runs them:

* an LSTM (Hochreiter and Schmidhuber 1997): a nonlinear recurrence, each step needs the last;
* causal self-attention: every position at once;
* a gated *linear* recurrence ``h_t = a_t ⊙ h_{t-1} + u_t`` (``a_t = sigmoid(W_a x_t)``,
  ``u_t = W_u x_t``, output ``W_o h_t``), the kind used by Martin and Cundy 2018 ("Parallelizing
  linear recurrent neural nets over sequence length", arXiv 1709.04057) and by S4 and Mamba (Gu,
  Goel and Ré 2021, arXiv 2111.00396; Gu and Dao 2023, arXiv 2312.00752). Because the update is
  linear in h, the pairs ``(a, u)`` compose associatively, ``(a, u) ∘ (a', u') = (a a', a' u + u')``,
  so all n states can be computed by a parallel *scan* (Blelloch 1990, "Prefix sums and their
  applications") in O(log n) dependent steps instead of n.

**span** (analytic, deterministic). The *work-span* model (Blelloch 1996, "Programming parallel
algorithms") counts every multiply, add, comparison or nonlinearity as one unit-time operation of fan-in
two, so a sum of k numbers costs k-1 operations of work but only ceil(log2 k) steps of depth:

* work W(n) = total operations (FLOPs, multiply and add counted separately);
* span D(n) = length of the longest chain of operations that depend on each other.

Brent's theorem (Brent 1974, "The parallel evaluation of general arithmetic expressions", J. ACM 21)
bounds the time on P units by ``max(W/P, D) <= T_P <= W/P + D``; the figure plots the upper bound
``T_P = W/P + D`` (in unit-operation times; the two bounds differ by at most a factor 2), the time a
greedy schedule is guaranteed to reach. Every number that follows from a bound is in the data for
both (``brent_bounds.upper`` and ``brent_bounds.lower``). The counts:

* LSTM, per step: gates from the input (8d² work, done for all steps at once) and from the previous
  hidden state (8d², which must wait for step t-1), then 9d element-wise operations. Each step's
  chain is a length-d dot product (1 + log2 d) followed by 6 element-wise operations, so
  ``W = 16nd² + 9nd`` and ``D = (1 + log2 d) + n(log2 d + 7)``: the span grows linearly with n.
* Causal self-attention (counted without the causal saving, as a plain kernel computes it): Q, K, V
  projections 6nd², scores 2n²d, softmax 5n², weighted sum 2n²d, output projection 2nd², so
  ``W = 8nd² + 4n²d + 5n²``; its chain is three d-long dot products, three n-long reductions and a few
  element-wise steps, ``D = 3 log2 d + 3 log2 n + 8``. In Vaswani's count of *sequential matrix
  operations* that is a constant (4 here: projections, scores, softmax, mix-and-project), against n
  for the recurrence.
* Linear recurrence by a work-efficient (Blelloch) scan: projections W_a, W_u, W_o 6nd², the sigmoid
  nd, and the scan: an up-sweep and a down-sweep of n - 1 combines each, and one more combine per
  position for the inclusive result, each combine 3 operations with a chain of 2 (multiply, then
  add): ``W = 6nd² + nd + 3d(3n - 2)`` and ``D = 2(1 + log2 d) + 1 + 2(2 log2 n + 1)``, which grows by
  4 per doubling of n.

Maximum path length (Vaswani's third column): the number of dependent combine steps a signal passes
between two positions: n for the recurrence, 1 for attention, and 2 log2 n for the scan (up the tree
and down again).

The figure should make obvious that with P = 2 units time is work, and attention's extra n²d work
makes it the slower layer once n exceeds about 2d; with P = 10,000 units the LSTM is stuck near its
n-step span. The numbers, not a slogan, depend on which of Brent's bounds is read: from 2 to 10,000
units the LSTM's implied time falls about 1,700-fold by the upper bound and about 2,500-fold by the
lower one (its own parallelism W/D is about 5,000, already half of P), attention's 3,000- to
5,000-fold by the upper bound and 5,000-fold (P/2: its work fills the units) by the lower; on 10,000 units attention is the faster of the two up to n of about 620 by the
upper bound and about 370 by the lower, after which its n²d work fills the units. The linear recurrence by scan does less work than the LSTM (no d×d
matrix acts on its state) and has a logarithmic span, so it is the fastest of the three on 10,000
units at every length counted here; what it gives up is a nonlinear state update.

**measured** (wall clock, the only numbers in the project that change between runs): median
forward+backward time of ``torch.nn.LSTM``, of a causal self-attention layer
(``F.scaled_dot_product_attention``) and of the linear recurrence by scan, all of the same width, on
the device the demo is given. The measured scan is the simpler Hillis-Steele scan (log2 n steps of n
combines each, n log n work): on a GPU its few steps matter more than its extra work. Dashed lines:
the time the work alone predicts, with one rate (FLOPs per millisecond) fitted to all points. On one
CPU thread there are few parallel units and time roughly follows work: how roughly is in the data
(``measured_over_predicted``, each point's measured time over the time its work predicts, and its
smallest and largest value, ``measured_over_predicted_range``); on a GPU the n positions of
attention and of the scan are computed at once while the LSTM still takes n dependent steps.
"""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from demos._common import (NARROW_FONT, NARROW_TEXT_IN, Claim, demo_main, fit_height, legend_below, narrow_subplots, save_figure,
                           short_log_axis, to_plain, wrap, write_data)


@dataclass
class Config:
    seed: int = 0  # seeds the layers' weights and the input batch of the measurement
    d: int = 64  # model width of every layer (LSTM hidden size = attention embedding size = scan state)
    n_head: int = 4  # attention heads in the measured layer (the counts use one head; same totals)
    log2_n_min: int = 4  # shortest sequence: n = 2**log2_n_min tokens
    log2_n_max: int = 10  # longest sequence: n = 2**log2_n_max tokens
    p_small: int = 2  # parallel units of a small machine (Brent's bound)
    p_large: int = 10000  # parallel units of a large machine (Brent's bound)
    batch: int = 4  # sequences per measured forward+backward pass
    warmup: int = 2  # untimed passes per layer and length before timing
    repeats: int = 5  # timed passes per layer and length; the median is reported


FIGURES = {
    "span": "Span, maximum path length, work and Brent's implied time on 2 and 10,000 units for an LSTM, self-attention and a linear recurrence by parallel scan vs n",
    "measured": "Measured forward+backward time of an LSTM, a causal self-attention layer and a linear recurrence by parallel scan vs n, with the time their work predicts",
}

ARCHS = ("rnn", "attention", "linear_scan")
NAMES = {"rnn": "LSTM (recurrence)", "attention": "self-attention", "linear_scan": "linear recurrence, parallel scan"}


# ----------------------------------------------------------------------------------------------
# The counts: work, span and path length per layer, per sequence (batch 1).
# ----------------------------------------------------------------------------------------------


def rnn_counts(n: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """(work, span) of one LSTM layer on n tokens; see the module docstring for the terms."""
    ld = math.ceil(math.log2(d))
    work = 16 * n * d**2 + 9 * n * d
    # The input projection of all steps runs in parallel before step 1; then every step waits for
    # the previous hidden state: one d-long dot product plus 6 element-wise operations.
    span = (1 + ld) + n * (ld + 7)
    return work.astype(np.float64), span.astype(np.float64)


def attention_counts(n: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """(work, span) of one self-attention layer on n tokens; see the module docstring for the terms."""
    ld = math.ceil(math.log2(d))
    ln = np.ceil(np.log2(n))
    work = 8 * n * d**2 + 4 * n**2 * d + 5 * n**2
    # projections (1+ld), scores (1+ld), scale (1), softmax: max (ln), subtract, exp, sum (ln),
    # divide, weighted sum (1+ln), output projection (1+ld)
    span = 3 * (1 + ld) + 1 + ln + 1 + 1 + ln + 1 + (1 + ln)
    return work.astype(np.float64), span.astype(np.float64)


def scan_counts(n: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """(work, span) of one gated linear recurrence computed by a work-efficient (Blelloch) scan."""
    ld = math.ceil(math.log2(d))
    ln = np.ceil(np.log2(n))
    # Projections W_a x and W_u x (in parallel), the sigmoid, the scan's 2(n - 1) + n combines of 3
    # operations per channel, the output projection W_o h.
    work = 6 * n * d**2 + n * d + 3 * d * (3 * n - 2)
    # projections (1+ld), sigmoid (1), up-sweep and down-sweep (ln levels each) and the final
    # combine, each level a multiply then an add (2), output projection (1+ld)
    span = (1 + ld) + 1 + 2 * (2 * ln + 1) + (1 + ld)
    return work.astype(np.float64), span.astype(np.float64)


COUNTS = {"rnn": rnn_counts, "attention": attention_counts, "linear_scan": scan_counts}


def max_path_length(n: np.ndarray) -> dict[str, np.ndarray]:
    """Dependent combine steps between the farthest two positions (Vaswani et al., Table 1, 3rd column)."""
    return {"rnn": n.astype(np.float64), "attention": np.ones(len(n)), "linear_scan": 2 * np.ceil(np.log2(n))}


def brent_time(work: np.ndarray, span: np.ndarray, p: int) -> np.ndarray:
    """Brent's upper bound T_P = W/P + D, in unit-operation times."""
    return work / p + span


def brent_lower(work: np.ndarray, span: np.ndarray, p: int) -> np.ndarray:
    """Brent's lower bound T_P >= max(W/P, D): no schedule on P units is faster."""
    return np.maximum(work / p, span)


BOUNDS = {"upper": brent_time, "lower": brent_lower}


def crossover_n(d: int, p: int, n_max: int = 1 << 20, bound: str = "upper") -> int | None:
    """Smallest n >= 2 from which attention's implied time exceeds the LSTM's on P units, if any.

    ``bound="upper"`` (what the figure plots and ``crossover_n`` in the data holds) compares the
    times W/P + D that a greedy schedule is guaranteed to reach; ``"lower"`` compares max(W/P, D),
    the times no schedule can beat. The true crossover of two greedy schedules lies between the two
    (each time is within a factor 2 of both bounds), so the data keeps both.
    """
    n = np.arange(2, n_max + 1)
    wr, sr = rnn_counts(n, d)
    wa, sa = attention_counts(n, d)
    time_ = BOUNDS[bound]
    idx = np.flatnonzero(time_(wa, sa, p) > time_(wr, sr, p))
    return int(n[idx[0]]) if idx.size else None


# ----------------------------------------------------------------------------------------------
# The measurement: the three layers, each of the same width.
# ----------------------------------------------------------------------------------------------


class CausalSelfAttention(nn.Module):
    """Each position mixes itself and earlier positions; all n positions are computed at once."""

    def __init__(self, d: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)  # 3 x (B, T, C)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, H, T, C/H)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, C/H)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))  # (B, T, C)


class LSTMLayer(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.lstm = nn.LSTM(d, d, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lstm(x)[0]  # (B, T, C)


def linear_scan(a: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """All states of h_t = a_t ⊙ h_{t-1} + u_t (h_0 = 0) in ceil(log2 n) steps; a, u: (B, n, d).

    Hillis-Steele scan: after the step with shift k, position t holds the composition of positions
    t - 2k + 1 .. t, as the pair (product of the a's, state reached from 0). Composing with position
    t - k uses (a, u) ∘ (a', u') = (a a', a' u + u'); positions before the start compose with the
    identity (1, 0), which the padding supplies.
    """
    n, k = a.shape[1], 1
    while k < n:
        u = u + a * F.pad(u, (0, 0, k, 0))[:, :n]  # uses the a of the previous step
        a = a * F.pad(a, (0, 0, k, 0), value=1.0)[:, :n]
        k *= 2
    return u


class LinearScanLayer(nn.Module):
    """h_t = a_t ⊙ h_{t-1} + u_t with a_t = sigmoid(W_a x_t), u_t = W_u x_t; output W_o h_t."""

    def __init__(self, d: int):
        super().__init__()
        self.gate = nn.Linear(d, d)
        self.inp = nn.Linear(d, d)
        self.out = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(linear_scan(torch.sigmoid(self.gate(x)), self.inp(x)))  # (B, T, C)


def measured_work(n: np.ndarray, d: int) -> dict[str, np.ndarray]:
    """Work of what is measured: as counted above, except that the causal attention kernel skips about
    half of the scores and the mixing, and the Hillis-Steele scan does 3d·Σ_k (n - k) operations."""
    out = {name: COUNTS[name](n, d)[0] for name in ARCHS}
    out["attention"] = 8 * n * d**2 + 2 * n**2 * d + 2.5 * n**2
    ln = np.ceil(np.log2(n))
    out["linear_scan"] = 6 * n * d**2 + n * d + 3 * d * (n * ln - (2**ln - 1))
    return out


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_fwd_bwd(layer: nn.Module, x: torch.Tensor, warmup: int, repeats: int, device: str) -> float:
    """Median wall-clock milliseconds of one forward and backward pass."""

    def step() -> None:
        layer.zero_grad(set_to_none=True)
        layer(x).square().mean().backward()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        step()
        _sync(device)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def device_label(device: str) -> str:
    if device.startswith("cuda"):
        return f"cuda ({torch.cuda.get_device_name(torch.device(device))})"
    return f"{device} ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})"


def measure(cfg: Config, ns: list[int], device: str) -> dict:
    torch.manual_seed(cfg.seed)
    layers = {"rnn": LSTMLayer(cfg.d), "attention": CausalSelfAttention(cfg.d, cfg.n_head), "linear_scan": LinearScanLayer(cfg.d)}
    layers = {k: v.to(device) for k, v in layers.items()}
    gen = torch.Generator().manual_seed(cfg.seed)
    out = {name: [] for name in ARCHS}
    for n in ns:
        x = torch.randn(cfg.batch, n, cfg.d, generator=gen).to(device)  # (B, n, d)
        for name, layer in layers.items():
            out[name].append(time_fwd_bwd(layer, x, cfg.warmup, cfg.repeats, device))
    return out


# ----------------------------------------------------------------------------------------------
# Figures.
# ----------------------------------------------------------------------------------------------


# The wide figures fit the laptop's 688 px content column unscaled (demos._common.wide_problems):
# at most 6.9 in before bbox_inches="tight" adds its margins, titles 10 pt wrapped to their panel.
WIDE_WIDTH_IN = 6.9
WIDE_TITLE = 10.0
WIDE_PANEL_TEXT_IN = 3.0


def _log2_axis(ax, ns: list[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(ns)
    ax.set_xticklabels([str(n) for n in ns])
    ax.minorticks_off()


def _log_y(ax) -> None:
    """A log y axis with ticks at 1, 2, 5 per decade, labelled in plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_locator(NullLocator())


def draw_span(theme, data: dict, narrow: bool = False):
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    ns, d = data["n"], data["d"]
    heights = (2.6, 2.2, 2.2, 2.4)
    if narrow:
        fig, axes = narrow_subplots(heights)
    else:
        # Two by two at 6.9 in: the laptop's 688 px column shows it unscaled, its text at 12 px and up.
        fig, grid = plt.subplots(2, 2, figsize=(WIDE_WIDTH_IN, 9.2), layout="constrained")
        axes = list(grid.flat)
    ax = axes[0]
    for i, key in enumerate(ARCHS):
        ax.plot(ns, data["span"][key], "o-", color=theme.color(i), ms=4)
    ax.set_yscale("log")
    ax.set_title("Span: longest chain of dependent operations")
    ax.set_ylabel("span D (unit-operation steps)")
    ax.annotate("≈ (log₂d + 7)·n", (ns[-3], data["span"]["rnn"][-3]), xytext=(-4, 6), textcoords="offset points",
                color=theme.color(0), fontsize=9, ha="right")
    # The two logarithmic spans run close together: their labels stand above and below the pair
    # (attention's, the upper line at small n, above; the scan's below, with room made).
    ax.annotate("≈ 3 log₂n + 3 log₂d + 8", (ns[1], data["span"]["attention"][1]), xytext=(0, 14),
                textcoords="offset points", color=theme.color(1), fontsize=9)
    ax.annotate("≈ 4 log₂n + 2 log₂d + 7", (ns[1], data["span"]["linear_scan"][1]), xytext=(0, -16),
                textcoords="offset points", color=theme.color(2), fontsize=9)
    ax.set_ylim(bottom=min(data["span"]["linear_scan"]) / 3)

    ax = axes[1]
    for i, key in enumerate(ARCHS):
        ax.plot(ns, data["max_path_length"][key], "o-", color=theme.color(i), ms=4)
    ax.set_yscale("log")
    ax.set_title("Maximum path length between two positions (Vaswani et al., Table 1)")
    ax.set_ylabel("dependent combine steps")
    ax.text(ns[-1], data["max_path_length"]["rnn"][-1], "n  ", color=theme.color(0), fontsize=9, ha="right", va="bottom")
    ax.text(ns[-1], data["max_path_length"]["linear_scan"][-1], "2 log₂n  ", color=theme.color(2), fontsize=9, ha="right", va="bottom")
    ax.text(ns[-1], 1, "1  ", color=theme.color(1), fontsize=9, ha="right", va="bottom")

    ax = axes[2]
    for i, key in enumerate(ARCHS):
        ax.plot(ns, data["work"][key], "o-", color=theme.color(i), ms=4)
    ax.set_yscale("log")
    ax.axvline(2 * d, color=theme.muted, lw=0.8, ls=":")
    ax.text(2 * d, ax.get_ylim()[1], " n = 2d", color=theme.muted, va="top", fontsize=9)
    ax.set_title("Work: 16nd² (LSTM), 8nd² + 4n²d (attention), 6nd² + 10nd (scan)")
    ax.set_ylabel("work W (FLOPs per sequence)")

    ax = axes[3]
    for p, ls in ((data["p_small"], "--"), (data["p_large"], "-")):
        for i, key in enumerate(ARCHS):
            ax.plot(ns, data["implied_time"][f"P={p}"][key], ls, marker="o", ms=3.5, color=theme.color(i))
    ax.set_yscale("log")
    if narrow:
        ax.set_ylim(bottom=ax.get_ylim()[0] / 3)  # room under the lines for the crossover's label
    cross = data["crossover_n"][f"P={data['p_large']}"]
    if cross is not None and ns[0] <= cross <= ns[-1]:
        # Past this n even 10,000 units are busy with attention's n²d work: time ≈ W/P again.
        ax.axvline(cross, color=theme.muted, lw=0.8, ls=":")
        lower = data["crossover_n_lower"][f"P={data['p_large']}"]
        ax.text(cross, ax.get_ylim()[0] * 1.5, f"n ≈ {cross} " + (f"\n({lower} by the lower bound) " if lower else ""),
                color=theme.muted, fontsize=NARROW_FONT, va="bottom", ha="right")
    brent = (f"; dashed P = {data['p_small']}, solid P = {data['p_large']:,}\n"
             f"(dotted line: from here attention is slower than the LSTM on {data['p_large']:,} units)")
    # T(P) in plain text, since a mathtext subscript would be smaller than the smallest font.
    ax.set_title("Brent: T(P) ≤ W/P + D" + brent)
    ax.set_ylabel("implied time (unit-operation times)")
    for ax in axes:
        _log2_axis(ax, ns)
        ax.set_xlabel("sequence length n (tokens)")
    handles = [Line2D([], [], color=theme.color(i), marker="o", ms=4, label=NAMES[k]) for i, k in enumerate(ARCHS)]
    sp = data["speedup_small_to_large_p"]
    title = (
        f"One layer, d = {d}, one sequence. From {data['p_small']} to {data['p_large']:,} units (Brent's upper bound) the LSTM's\n"
        f"time falls {min(sp['rnn']):,.0f}–{max(sp['rnn']):,.0f}×, attention's {min(sp['attention']):,.0f}–{max(sp['attention']):,.0f}×, "
        f"the scan's {min(sp['linear_scan']):,.0f}–{max(sp['linear_scan']):,.0f}×"
    )
    for ax in axes:
        short_log_axis(ax.yaxis)  # 1e6, not 10 with a superscript smaller than the smallest font
    if narrow:
        for ax in axes:
            ax.set_title(wrap(ax.get_title()))
        legend_below(axes[0], handles, [h.get_label() for h in handles])  # the first panel needs it
        fig.suptitle(wrap(title, width_in=NARROW_TEXT_IN + 0.3))
        return fit_height(fig, axes, heights)
    for ax in axes:
        ax.set_title(wrap(ax.get_title(), WIDE_TITLE, WIDE_PANEL_TEXT_IN, lines=3), fontsize=WIDE_TITLE)
    fig.suptitle(wrap(title, 11, WIDE_WIDTH_IN - 0.3), fontsize=11)
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=NARROW_FONT)
    return fig


def draw_measured(theme, data: dict, narrow: bool = False):
    import matplotlib.pyplot as plt

    ns, dev = data["n"], data["device"]
    if narrow:
        fig, (ax,) = narrow_subplots((2.6,))
    else:
        fig, ax = plt.subplots(figsize=(WIDE_WIDTH_IN, 5.2))
    for i, key in enumerate(ARCHS):
        ax.plot(ns, data["measured_ms"][key], "o-", color=theme.color(i), ms=4, label=NAMES[key])
        ax.plot(ns, data["work_predicted_ms"][key], "--", color=theme.color(i), lw=1, alpha=0.8)
    ax.plot([], [], "--", color=theme.fg, lw=1, label=f"work ÷ one fitted rate ({data['fitted_gflops']:.2g} GFLOP/s)")
    _log_y(ax)
    _log2_axis(ax, ns)
    ax.set_xlabel("sequence length n (tokens)")
    ax.set_ylabel("forward + backward time (ms, median)")
    ms = {k: data["measured_ms"][k][-1] for k in ARCHS}
    title = (f"Measured on {dev}: batch {data['batch']}, d = {data['d']} (wall clock: changes from run to run)\n"
             f"at n = {ns[-1]}: LSTM {ms['rnn']:.3g} ms, attention {ms['attention']:.3g} ms, scan {ms['linear_scan']:.3g} ms")
    if narrow:
        legend_below(ax)
        ax.set_title(wrap(title))
        return fit_height(fig, [ax], (2.6,))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=NARROW_FONT)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------
# Headline numbers and entry point.
# ----------------------------------------------------------------------------------------------


def phenomenon(data: dict) -> list[Claim]:
    n, d = data["n"], data["d"]
    span, work, sp = data["span"], data["work"], data["speedup_small_to_large_p"]
    slope = [(span["rnn"][i + 1] - span["rnn"][i]) / (n[i + 1] - n[i]) for i in range(len(n) - 1)]
    step_att = [b - a for a, b in zip(span["attention"], span["attention"][1:])]
    step_scan = [b - a for a, b in zip(span["linear_scan"], span["linear_scan"][1:])]
    large = data["implied_time"][f"P={data['p_large']}"]
    cross = data["crossover_n"][f"P={data['p_large']}"]
    ratio = [a / r for a, r in zip(work["attention"], work["rnn"])]
    lo = data["brent_bounds"]["lower"]
    sp_lo = data["speedup_small_to_large_p_lower"]
    mop = data["measured_over_predicted_range"]
    # Everything but the measured times follows from the counts: the same on every seed.
    return [
        Claim("LSTM span grows linearly: log₂d + 7 more steps per token", f"{min(slope):g}–{max(slope):g}",
              all(math.isclose(s, math.ceil(math.log2(d)) + 7) for s in slope), deterministic=True),
        Claim("attention span grows as log n: +3 per doubling", ",".join(f"{s:g}" for s in step_att), all(s == 3 for s in step_att),
              deterministic=True),
        Claim("linear scan span (span.linear_scan) grows as log n: +4 per doubling",
              ",".join(f"{s:g}" for s in step_scan), all(s == 4 for s in step_scan), deterministic=True),
        Claim("attention does more work than the LSTM once n ≥ 4d (and less when n ≤ d)",
              f"{ratio[0]:.2f} … {ratio[-1]:.2f}",
              all(r > 1 for r, k in zip(ratio, n) if k >= 4 * d) and all(r < 1 for r, k in zip(ratio, n) if k <= d),
              deterministic=True),
        Claim(f"2 → {data['p_large']:,} units: attention speeds up more than the LSTM at every n, by either of Brent's bounds "
              "(upper; lower)",
              f"{min(sp['attention']):,.0f}–{max(sp['attention']):,.0f}× vs {min(sp['rnn']):,.0f}–{max(sp['rnn']):,.0f}×; "
              f"{min(sp_lo['attention']):,.0f}–{max(sp_lo['attention']):,.0f}× vs {min(sp_lo['rnn']):,.0f}–{max(sp_lo['rnn']):,.0f}×",
              all(a > r for a, r in zip(sp["attention"], sp["rnn"])) and all(a > r for a, r in zip(sp_lo["attention"], sp_lo["rnn"])),
              deterministic=True),
        Claim(f"on {data['p_large']:,} units attention beats the LSTM up to the crossover n, by the upper bound "
              "(lower bound; reported)", f"{cross} ({lo['crossover_n']})", None, deterministic=True),
        Claim(f"on {data['p_large']:,} units the linear scan is faster than the LSTM at every n",
              f"{large['linear_scan'][-1]:.3g} vs {large['rnn'][-1]:.3g} at n = {n[-1]}",
              all(s < r for s, r in zip(large["linear_scan"], large["rnn"])), deterministic=True),
        Claim("measured times are finite and positive", data["device"],
              all(math.isfinite(t) and t > 0 for k in ARCHS for t in data["measured_ms"][k])),
        Claim(f"measured ms at n = {n[-1]}: LSTM / attention / scan (wall clock, reported)",
              " / ".join(f"{data['measured_ms'][k][-1]:.3g}" for k in ARCHS), None),
        Claim("measured time over the time its work predicts, every layer and n: smallest–largest (reported)",
              f"{mop['min']:.2f}–{mop['max']:.2f}", None),
    ]


def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    ns = [2**k for k in range(cfg.log2_n_min, cfg.log2_n_max + 1)]
    n_arr = np.array(ns, dtype=np.int64)
    counts = {name: COUNTS[name](n_arr, cfg.d) for name in ARCHS}  # name -> (work, span)
    implied = {f"P={p}": {name: brent_time(*counts[name], p) for name in ARCHS} for p in (cfg.p_small, cfg.p_large)}
    implied_lower = {f"P={p}": {name: brent_lower(*counts[name], p) for name in ARCHS} for p in (cfg.p_small, cfg.p_large)}
    measured = measure(cfg, ns, device)
    # One rate for every layer and length: the median of (FLOPs of a forward+backward pass) / ms,
    # with backward counted as twice the forward.
    flops = {k: 3 * cfg.batch * v for k, v in measured_work(n_arr, cfg.d).items()}
    rate = statistics.median(flops[k][i] / measured[k][i] for k in ARCHS for i in range(len(ns)))  # FLOPs per ms
    predicted = {k: flops[k] / rate for k in ARCHS}
    over = {k: np.array(measured[k]) / predicted[k] for k in ARCHS}  # > 1: slower than its work predicts
    all_over = np.concatenate(list(over.values()))

    def speedups(times: dict) -> dict:
        return {name: times[f"P={cfg.p_small}"][name] / times[f"P={cfg.p_large}"][name] for name in ARCHS}

    # Both of Brent's bounds, for every number read off them. The figure and `crossover_n` use the
    # upper bound W/P + D: it is a time a greedy schedule is guaranteed to reach, where the lower bound
    # max(W/P, D) is one that no schedule can beat and few reach (the LSTM's steps, for one, cannot
    # all keep P units busy while it waits on its span).
    bounds = {}
    for bound, times in (("upper", implied), ("lower", implied_lower)):
        sp = speedups(times)
        bounds[bound] = {
            "speedup": {name: {"min": float(np.min(sp[name])), "max": float(np.max(sp[name]))} for name in ARCHS},
            "crossover_n": crossover_n(cfg.d, cfg.p_large, bound=bound),  # on p_large units
        }
    data = {
        "n": ns,
        "d": cfg.d,
        "p_small": cfg.p_small,
        "p_large": cfg.p_large,
        "batch": cfg.batch,
        "span": {name: counts[name][1] for name in ARCHS},
        "work": {name: counts[name][0] for name in ARCHS},
        "parallelism": {name: [float(w) / float(d) for w, d in zip(*counts[name])] for name in ARCHS},  # W/D per n
        "sequential_ops": {"rnn": n_arr, "attention": [4] * len(ns), "linear_scan": 2 * np.ceil(np.log2(n_arr)) + 1},
        "max_path_length": max_path_length(n_arr),
        "implied_time": implied,
        "implied_time_lower": implied_lower,  # Brent's lower bound max(W/P, D)
        "speedup_small_to_large_p": speedups(implied),  # by the upper bound, at every n
        "speedup_small_to_large_p_lower": speedups(implied_lower),
        "crossover_n": {f"P={p}": crossover_n(cfg.d, p) for p in (cfg.p_small, cfg.p_large)},  # upper bound
        "crossover_n_lower": {f"P={p}": crossover_n(cfg.d, p, bound="lower") for p in (cfg.p_small, cfg.p_large)},
        "brent_bounds": bounds,  # per bound: speedup from p_small to p_large (min, max over n), crossover on p_large
        "measured_ms": measured,
        "work_predicted_ms": predicted,
        "measured_over_predicted": over,  # per layer and n
        "measured_over_predicted_range": {"min": float(all_over.min()), "max": float(all_over.max())},
        "fitted_gflops": rate * 1e3 / 1e9,
        "device": device_label(device),
    }
    data = to_plain(data)  # lists and floats: the figures and the tests read the same numbers as data.json
    save_figure(lambda t, narrow=False: draw_span(t, data, narrow=narrow), out_dir, "span", narrow=True)
    save_figure(lambda t, narrow=False: draw_measured(t, data, narrow=narrow), out_dir, "measured", narrow=True)
    write_data(out_dir, data)
    return data


if __name__ == "__main__":
    demo_main(Config, run)
