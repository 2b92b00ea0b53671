"""Trainability: why self-attention, not recurrence, is the layer that parallel hardware rewards.

Vaswani et al. 2017 ("Attention Is All You Need", arXiv 1706.03762, Table 1) compare layers by three
numbers: per-layer work O(n·d²) for a recurrent layer against O(n²·d) for self-attention, and the
number of operations that must happen one after another, O(n) against O(1). This demo makes those
numbers concrete for one LSTM layer and one causal self-attention layer of width d on one sequence of
n tokens, and then runs the two layers.

**span** (analytic, deterministic). The *work-span* model (Blelloch 1996, "Programming parallel
algorithms") counts every multiply, add, comparison or nonlinearity as one unit-time operation of fan-in
two, so a sum of k numbers costs k-1 operations of work but only ceil(log2 k) steps of depth:

* work W(n) = total operations (FLOPs, multiply and add counted separately);
* span D(n) = length of the longest chain of operations that depend on each other.

Brent's theorem (Brent 1974, "The parallel evaluation of general arithmetic expressions", J. ACM 21)
bounds the time on P units by ``max(W/P, D) <= T_P <= W/P + D``; the figure plots the upper bound
``T_P = W/P + D`` (in unit-operation times; the two bounds differ by at most a factor 2). The counts:

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

The figure should make obvious that with P = 2 units time is work, and attention's extra n²d work
makes it the slower layer once n exceeds about 2d; with P = 10,000 units the recurrence is stuck at
its n-step span while attention's time falls to W/P, so attention wins by a wide margin until its
quadratic work fills the 10,000 units too (the crossover n is printed on the figure).

**measured** (wall clock, the only numbers in the project that change between runs): median
forward+backward time of ``torch.nn.LSTM`` and of a causal self-attention layer
(``F.scaled_dot_product_attention``) of the same width, on the device the demo is given. On one CPU
thread there are few parallel units and the LSTM may well be the faster layer; on a GPU the n positions
of attention are computed at once while the LSTM still takes n dependent steps.
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

from demos._common import demo_main, save_figure, write_data


@dataclass
class Config:
    seed: int = 0  # seeds the layers' weights and the input batch of the measurement
    d: int = 64  # model width of both layers (LSTM hidden size = attention embedding size)
    n_head: int = 4  # attention heads in the measured layer (the counts use one head; same totals)
    log2_n_min: int = 4  # shortest sequence: n = 2**log2_n_min tokens
    log2_n_max: int = 10  # longest sequence: n = 2**log2_n_max tokens
    p_small: int = 2  # parallel units of a small machine (Brent's bound)
    p_large: int = 10000  # parallel units of a large machine (Brent's bound)
    batch: int = 4  # sequences per measured forward+backward pass
    warmup: int = 2  # untimed passes per layer and length before timing
    repeats: int = 5  # timed passes per layer and length; the median is reported


FIGURES = {
    "span": "Span, work and Brent's implied time on 2 and 10,000 units for one LSTM and one self-attention layer vs n",
    "measured": "Measured forward+backward time of one LSTM layer and one causal self-attention layer vs n",
}


# ----------------------------------------------------------------------------------------------
# The counts: work and span per layer, per sequence (batch 1).
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


def brent_time(work: np.ndarray, span: np.ndarray, p: int) -> np.ndarray:
    """Brent's upper bound T_P = W/P + D, in unit-operation times."""
    return work / p + span


def crossover_n(d: int, p: int, n_max: int = 1 << 20) -> int | None:
    """Smallest n >= 2 from which attention's implied time exceeds the LSTM's on P units, if any."""
    n = np.arange(2, n_max + 1)
    wr, sr = rnn_counts(n, d)
    wa, sa = attention_counts(n, d)
    worse = brent_time(wa, sa, p) > brent_time(wr, sr, p)
    idx = np.flatnonzero(worse)
    return int(n[idx[0]]) if idx.size else None


# ----------------------------------------------------------------------------------------------
# The measurement: one LSTM layer against one causal self-attention layer of the same width.
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
    layers = {"rnn": LSTMLayer(cfg.d).to(device), "attention": CausalSelfAttention(cfg.d, cfg.n_head).to(device)}
    gen = torch.Generator().manual_seed(cfg.seed)
    out = {"rnn": [], "attention": []}
    for n in ns:
        x = torch.randn(cfg.batch, n, cfg.d, generator=gen).to(device)  # (B, n, d)
        for name, layer in layers.items():
            out[name].append(time_fwd_bwd(layer, x, cfg.warmup, cfg.repeats, device))
    return out


# ----------------------------------------------------------------------------------------------
# Figures.
# ----------------------------------------------------------------------------------------------

NAMES = {"rnn": "LSTM (recurrence)", "attention": "self-attention"}


def _log2_axis(ax, ns: list[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(ns)
    ax.set_xticklabels([str(n) for n in ns])
    ax.minorticks_off()


def draw_span(data: dict):
    ns = data["n"]

    def draw(theme):
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(3, 1, figsize=(7.2, 12.0))  # stacked: legible at page width
        ax = axes[0]
        for i, key in enumerate(("rnn", "attention")):
            ax.plot(ns, data["span"][key], "o-", color=theme.color(i), label=NAMES[key], ms=4)
        ax.set_yscale("log")
        ax.set_title("Span: longest chain of dependent operations")
        ax.set_ylabel("span D (unit-operation steps)")
        ax.annotate(
            "≈ (log₂d + 7)·n", (ns[-3], data["span"]["rnn"][-3]), xytext=(-4, 6),
            textcoords="offset points", color=theme.color(0), fontsize=9, ha="right",
        )
        ax.annotate(
            "≈ 3 log₂n + 3 log₂d + 8", (ns[1], data["span"]["attention"][1]), xytext=(0, 10),
            textcoords="offset points", color=theme.color(1), fontsize=9,
        )

        ax = axes[1]
        for i, key in enumerate(("rnn", "attention")):
            ax.plot(ns, data["work"][key], "o-", color=theme.color(i), label=NAMES[key], ms=4)
        ax.set_yscale("log")
        d = data["d"]
        ax.axvline(2 * d, color=theme.muted, lw=0.8, ls=":")
        ax.text(2 * d, ax.get_ylim()[1], " n = 2d", color=theme.muted, va="top", fontsize=9)
        ax.set_title("Work: 16nd² (LSTM) vs 8nd² + 4n²d (attention)")
        ax.set_ylabel("work W (FLOPs per sequence)")

        ax = axes[2]
        for j, (p, ls) in enumerate(((data["p_small"], "--"), (data["p_large"], "-"))):
            for i, key in enumerate(("rnn", "attention")):
                ax.plot(
                    ns, data["implied_time"][f"P={p}"][key], ls, marker="o", ms=3.5, color=theme.color(i),
                    label=f"{NAMES[key]}, P = {p:,}",
                )
        ax.set_yscale("log")
        cross = data["crossover_n"][f"P={data['p_large']}"]
        if cross is not None and ns[0] <= cross <= ns[-1]:
            # Past this n even 10,000 units are busy with attention's n²d work: time ≈ W/P again.
            ax.axvline(cross, color=theme.muted, lw=0.8, ls=":")
            ax.text(cross, ax.get_ylim()[0] * 1.3, f"n ≈ {cross} \nattention's \nn²d work fills \n{data['p_large']:,} units ",
                    color=theme.muted, fontsize=8, va="bottom", ha="right")
        ax.set_title("Brent: $T_P \\leq W/P + D$ on P parallel units")
        ax.set_ylabel("implied time (unit-operation times)")
        ax.legend(fontsize=8, loc="center right")
        for ax in axes:
            _log2_axis(ax, ns)
            ax.set_xlabel("sequence length n (tokens)")
        axes[0].legend(fontsize=9, loc="center right")
        fig.suptitle(
            f"One layer of width d = {d}, one sequence: recurrence has n dependent steps,\n"
            f"attention a few, so 2 → {data['p_large']:,} units speeds attention up far more",
            fontsize=11,
        )
        fig.tight_layout()
        return fig

    return draw


def draw_measured(data: dict):
    ns = data["n"]
    dev = data["device"]
    on_gpu = dev.startswith("cuda")

    def draw(theme):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7.2, 4.6))
        for i, key in enumerate(("rnn", "attention")):
            ax.plot(ns, data["measured_ms"][key], "o-", color=theme.color(i), label=NAMES[key], ms=4)
        ax.set_yscale("log")
        _log2_axis(ax, ns)
        ax.set_xlabel("sequence length n (tokens)")
        ax.set_ylabel("forward + backward time (ms, median)")
        r, a = data["measured_ms"]["rnn"][-1], data["measured_ms"]["attention"][-1]
        fact = f"At n = {ns[-1]}: LSTM {r:.3g} ms, attention {a:.3g} ms."
        if on_gpu:
            why = ("A GPU runs attention's n positions at once, but its n²d work\n"
                   "grows fastest; the LSTM's n steps run one after another\n"
                   "(a fused cuDNN kernel makes each step cheap at small d).\n"
                   "Flat parts: kernel-launch overhead, not arithmetic.")
        else:
            why = ("One CPU thread is about one parallel unit, so time follows\n"
                   "work, as in the P = 2 curves: the LSTM can be the faster\n"
                   "layer here. On a GPU its n dependent steps set its time.")
        why = fact + "\n" + why
        ax.text(0.02, 0.97, why, transform=ax.transAxes, va="top", fontsize=8.5, color=theme.muted)
        ax.legend(loc="lower right")
        ax.set_title(f"Measured on {dev}: batch {data['batch']}, d = {data['d']}\n"
                     "(wall clock: these numbers change from run to run)")
        fig.tight_layout()
        return fig

    return draw


# ----------------------------------------------------------------------------------------------


def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    ns = [2**k for k in range(cfg.log2_n_min, cfg.log2_n_max + 1)]
    n_arr = np.array(ns, dtype=np.int64)
    wr, sr = rnn_counts(n_arr, cfg.d)
    wa, sa = attention_counts(n_arr, cfg.d)
    implied = {
        f"P={p}": {"rnn": brent_time(wr, sr, p), "attention": brent_time(wa, sa, p)} for p in (cfg.p_small, cfg.p_large)
    }
    data = {
        "n": ns,
        "d": cfg.d,
        "p_small": cfg.p_small,
        "p_large": cfg.p_large,
        "batch": cfg.batch,
        "span": {"rnn": sr, "attention": sa},
        "sequential_ops": {"rnn": n_arr, "attention": [4] * len(ns)},
        "work": {"rnn": wr, "attention": wa},
        "implied_time": implied,
        "speedup_small_to_large_p": {
            k: implied[f"P={cfg.p_small}"][k] / implied[f"P={cfg.p_large}"][k] for k in ("rnn", "attention")
        },
        "crossover_n": {f"P={p}": crossover_n(cfg.d, p) for p in (cfg.p_small, cfg.p_large)},
        "measured_ms": measure(cfg, ns, device),
        "device": device_label(device),
    }
    data = {k: (v if not isinstance(v, np.ndarray) else v.tolist()) for k, v in data.items()}
    save_figure(draw_span(data), out_dir, "span")
    save_figure(draw_measured(data), out_dir, "measured")
    write_data(out_dir, data)
    return data


if __name__ == "__main__":
    demo_main(Config, run)
