"""Simplicity bias: networks and kernels fit the "simple" part of a target first.

Two views:

* ``spectral`` (Rahaman et al. 2019, "On the spectral bias of neural networks"): a ReLU MLP is
  trained with Adam on a sum of sines of frequencies 1, 3, 5, 7, 9 (equal amplitudes) sampled on a
  uniform grid of [0, 1). The residual target − network is Fourier transformed on that grid after
  every step; each row of the heat map is one frequency's residual amplitude divided by its target
  amplitude. The figure should make obvious that the rows go dark in order of frequency: each
  network learns frequency 1 within about ten steps and frequency 9 only after several hundred to a
  thousand and more. "Learned" is read off each network's own curve (``learned_at_per_model``: the
  first step its residual is below ``threshold``; ``learned_at`` is the median over networks;
  ``learned_at_min``/``learned_at_max`` and ``learned_at_by_freq`` summarise them). Now and then one
  network learns two neighbouring frequencies of the target at about the same step: a *near tie*,
  the later step at most ``NEAR_TIE`` (1.25) times the earlier, within a tenth of a decade on the
  figure's log axis (``near_ties`` lists them; ``closest_neighbour_ratio`` is the smallest such
  factor of the run). Why
  this order: in the kernel (NTK) limit gradient descent fits each eigenfunction of the kernel at a
  rate set by its eigenvalue, and a ReLU network's eigenvalues fall with frequency (Basri, Jacobs,
  Kasten and Kritchman 2019, arXiv 1906.00425; Cao, Fang, Wu, Zhou and Gu 2019, arXiv 1912.01198).
* ``alignment`` (Canatar, Bordelon and Pehlevan 2021, "Spectral bias and task-model alignment
  explain generalization in kernel regression and infinitely wide neural networks"): kernel
  regression with an RBF kernel on two scikit-learn digit tasks, 0 vs 1 and 8 vs 9 (targets ±1).
  Each task's images are pooled and the kernel is eigendecomposed on them; the cumulative power
  C(ρ) says how much of the target lies in the kernel's top ρ eigenmodes. The task whose power sits
  in the top modes (0/1) is learned from fewer samples: its learning curve lies below the other, and
  the self-consistent theory of the paper (its Eq. 4) predicts the order and the slopes. The error
  is measured on *held-out* images: the pool's images not in the training sample (``Eg_heldout``).
  The theory's E_g is the error on an image drawn from the whole pool, the distribution its
  spectrum was computed on; such an image is a training image with probability p/m, where the fit is
  exact up to the tiny ridge, so the theory's prediction for held-out images is
  ``Eg_theory · m/(m − p)`` (``Eg_theory_heldout``), which is what the measurement is compared with
  (``ratio_empirical_to_theory``). The level is close for 8/9 (within 10% up to p = 26 to 72 on seeds 0-3) but
  not for 0/1, where the measurement is 1.3 to 1.9 times the prediction from p = 15 on
  (``ratio_summary`` in the data): the theory assumes samples from an infinite distribution, the demo
  draws distinct images from a pool of about 360.

References: arXiv 1806.08734 (Rahaman et al.), 2006.13198 (Canatar et al.), 1901.06523 (Xu et al.,
frequency principle), 2002.02561 (Bordelon et al., spectrum-dependent learning curves).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from demos._common import (NARROW_TEXT_IN, AdamW, Claim, demo_main, fit_height, legend_below, narrow_subplots, plain_log_axis,
                           save_figure, wrap, write_data)


@dataclass
class Config:
    freqs: str = "1,3,5,7,9"  # frequencies k of the target Σ sin(2πkx), comma separated
    points: int = 64  # uniform grid points on [0, 1): training inputs and FFT grid
    width: int = 64  # hidden units per layer of the MLP
    depth: int = 4  # hidden layers of the MLP
    seeds: int = 3  # MLPs trained side by side (one batched program); residuals are averaged
    steps: int = 2000  # full-batch Adam steps (every MLP of seeds 0-7 learns frequency 9 by step ~1850)
    lr: float = 5e-3  # initial Adam learning rate
    lr_final: float = 2e-3  # learning rate at the last step (exponential decay)
    input_scale: float = 2.0  # the network sees input_scale·(x − 0.5), i.e. x centred on [−1, 1]
    threshold: float = 0.1  # a frequency counts as learned once its relative residual falls below this
    bandwidth: float = 2.0  # RBF kernel length scale ℓ on digits (pixels scaled to [0, 1])
    ridge: float = 1e-3  # ridge λ of kernel regression (also used by the theory)
    p_max: int = 200  # largest training-set size of the learning curves
    num_p: int = 10  # log-spaced training-set sizes from 2 to p_max
    trials: int = 100  # random training subsets per size (distinct images from the task's pool)
    seed: int = 0  # seed of every random draw


FIGURES = {
    "spectral": "Spectral bias of an MLP: residual of each target frequency over training steps, low frequencies vanish first",
    "alignment": "Task-model alignment on digits: kernel spectrum, cumulative power C(ρ) and learning curves of 0/1 and 8/9 with theory",
}

TASKS = {"0/1": (0, 1), "8/9": (8, 9)}
NEAR_TIE = 1.25  # two neighbouring frequencies learned by one MLP at most this factor apart in step: a near tie
RATIO_FROM_P = 15  # ratio_summary also gives the range from this many samples on (below it both tasks sit near E_g = 1)


# ----------------------------------------------------------------------------------------------
# Spectral bias of an MLP
# ----------------------------------------------------------------------------------------------


def init_mlp(S: int, sizes: list[int], gen: torch.Generator) -> tuple[torch.Tensor, list[tuple[int, ...]]]:
    """S independent MLPs, all their weights in one flat vector (so Adam is a handful of ops).

    He-normal weights, PyTorch-default uniform biases; shapes are (S, in, out) and (S, 1, out).
    """
    chunks, shapes = [], []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        gain = 2.0 if i < len(sizes) - 2 else 1.0  # ReLU layers keep the activation scale
        W = torch.randn(S, a, b, generator=gen) * math.sqrt(gain / a)
        bias = (2 * torch.rand(S, 1, b, generator=gen) - 1) / math.sqrt(a)
        chunks += [W.flatten(), bias.flatten()]
        shapes += [tuple(W.shape), tuple(bias.shape)]
    return torch.cat(chunks).requires_grad_(), shapes


def mlp(flat: torch.Tensor, shapes: list[tuple[int, ...]], x: torch.Tensor) -> torch.Tensor:
    views, start = [], 0
    for shape in shapes:  # differentiable views into the flat parameter vector
        size = math.prod(shape)
        views.append(flat[start : start + size].view(shape))
        start += size
    h = x  # (S, M, 1)
    for i in range(0, len(views), 2):
        h = torch.baddbmm(views[i + 1], h, views[i])  # (S, M, out)
        if i < len(views) - 2:
            h = torch.relu(h)
    return h[..., 0]  # (S, M)


def train_spectral(cfg: Config, gen: torch.Generator) -> dict:
    ks = [int(k) for k in cfg.freqs.split(",")]
    M, S = cfg.points, cfg.seeds
    assert max(ks) < M // 2, "the grid must resolve the highest frequency"
    x = torch.arange(M) / M  # uniform grid of [0, 1): FFT bin k is frequency k
    target = sum(torch.sin(2 * math.pi * k * x) for k in ks)  # (M,)
    amp = torch.fft.rfft(target).abs()[ks] * 2 / M  # target amplitude of each frequency (all 1)
    inputs = (cfg.input_scale * (x - 0.5))[None, :, None].expand(S, M, 1)  # (S, M, 1)
    flat, shapes = init_mlp(S, [1] + [cfg.width] * cfg.depth + [1], gen)
    opt = AdamW([flat], cfg.lr)  # plain Adam (no weight decay), betas 0.9, 0.999
    decay = (cfg.lr_final / cfg.lr) ** (1.0 / max(1, cfg.steps))  # exponential learning-rate decay
    rel = torch.zeros(cfg.steps + 1, S, len(ks))  # relative residual after each step, (T+1, S, K)
    snaps = {}
    snap_at = sorted({max(1, round(cfg.steps * f)) for f in (0.02, 0.1, 1.0)})
    for step in range(cfg.steps + 1):
        out = mlp(flat, shapes, inputs)  # (S, M)
        resid = target - out  # (S, M)
        with torch.no_grad():
            rel[step] = (torch.fft.rfft(resid, dim=1).abs()[:, ks] * 2 / M) / amp  # (S, K)
            if step in snap_at:
                snaps[step] = out[0].clone()
        if step == cfg.steps:
            break
        loss = resid.pow(2).mean(1).sum()  # the S networks are independent: sum of their losses
        opt.lr = cfg.lr * decay**step
        opt.zero_grad()
        loss.backward()
        opt.step()
    # When is a frequency learned? On each model's own curve: the first step its relative residual
    # falls below the threshold. A mean over models can mislead: Adam makes each model's residuals
    # oscillate, and the mean of three oscillating curves can cross the threshold late or in the
    # wrong order even when every model learned the frequencies in order. (The *last* crossing is no
    # better here: late in training Adam's oscillations push even frequency 1 back above 0.1 now
    # and then, which the heat map shows as faint vertical streaks.)
    per_model = [[learned_step(rel[:, s, j], cfg.threshold) for j in range(len(ks))] for s in range(S)]
    return {
        "k": ks,
        "x": x,
        "target": target,
        "rel": rel.mean(1).numpy(),  # (T+1, K): the heat map shows the mean over models
        "learned_at_per_model": per_model,
        "learned_at": [median_step([m[j] for m in per_model]) for j in range(len(ks))],
        "snapshots": snaps,
        "final_loss": float(resid.detach().pow(2).mean()),
    }


def learned_step(curve: torch.Tensor, threshold: float) -> int | None:
    """The first step at which the curve is below the threshold (None if never)."""
    hit = (curve < threshold).nonzero()
    return int(hit[0]) if len(hit) else None


def median_step(steps: list[int | None]) -> int | None:
    """Median over models of the step each learned a frequency (None counts as never: after all)."""
    big = 10**9
    m = int(np.median([big if s is None else s for s in steps]))
    return None if m >= big else m


# ----------------------------------------------------------------------------------------------
# Task-model alignment of kernel regression
# ----------------------------------------------------------------------------------------------


def rbf(A: torch.Tensor, B: torch.Tensor, ell: float) -> torch.Tensor:
    return torch.exp(-torch.cdist(A, B).pow(2) / (2 * ell**2))


def theory_curve(eta: torch.Tensor, a2: torch.Tensor, ps: np.ndarray, lam: float) -> np.ndarray:
    """Canatar et al. (2021), Eq. 4, without label noise.

    κ solves κ = λ + Σ_ρ κ η_ρ / (p η_ρ + κ); γ = Σ_ρ p η_ρ² / (p η_ρ + κ)²;
    E_g = κ² / (1 − γ) · Σ_ρ η_ρ w̄_ρ² / (p η_ρ + κ)²,  where η_ρ w̄_ρ² = a_ρ² is the target's power
    on eigenmode ρ. Dividing the κ equation by κ gives 1 − λ/κ − Σ η/(pη + κ) = 0, whose left side
    increases with κ, so bisection (in log κ, for every p at once) finds the unique root.
    """
    p = torch.tensor(ps, dtype=torch.float64)[:, None]  # (P, 1)
    lo = torch.full_like(p, 1e-14)
    hi = torch.full_like(p, 1e4)
    for _ in range(120):
        kappa = (lo * hi).sqrt()
        h = 1 - lam / kappa - (eta / (p * eta + kappa)).sum(1, keepdim=True)
        hi = torch.where(h > 0, kappa, hi)
        lo = torch.where(h > 0, lo, kappa)
    kappa = (lo * hi).sqrt()  # (P, 1)
    gamma = (p * eta**2 / (p * eta + kappa) ** 2).sum(1)  # (P,)
    return (kappa[:, 0] ** 2 / (1 - gamma) * (a2 / (p * eta + kappa) ** 2).sum(1)).numpy()


def alignment(cfg: Config, gen: torch.Generator) -> dict:
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = torch.tensor(digits.data / 16.0, dtype=torch.float64)  # (1797, 64)
    labels = torch.tensor(digits.target)
    ps = np.unique(np.round(np.geomspace(2, cfg.p_max, cfg.num_p)).astype(int))
    out = {"p": ps, "eta": {}, "C": {}, "Eg_heldout": {}, "Eg_heldout_sem": {}, "Eg_pool": {}, "Eg_pool_sem": {},
           "Eg_theory": {}, "Eg_theory_heldout": {}, "pool": {}}
    for name, (c0, c1) in TASKS.items():
        keep = (labels == c0) | (labels == c1)
        Xt = X[keep]  # the task's data distribution: the pooled images of its two digits, (m, 64)
        y = torch.where(labels[keep] == c0, 1.0, -1.0).to(torch.float64)  # (m,)
        m = len(Xt)
        K = rbf(Xt, Xt, cfg.bandwidth)  # (m, m)
        # Eigenfunctions under the uniform distribution on the pool: K/m = U diag(η) Uᵀ, and
        # φ_ρ = sqrt(m) U[:, ρ] has unit mean square, so the target's coefficient is a_ρ = Uᵀy/sqrt(m).
        eta, U = torch.linalg.eigh(K / m)
        eta, U = eta.flip(0).clamp(min=0), U.flip(1)  # largest eigenvalue first
        a2 = (U.T @ y / math.sqrt(m)) ** 2  # target power per mode, η_ρ w̄_ρ², sums to mean(y²) = 1
        out["eta"][name] = eta
        out["C"][name] = torch.cumsum(a2, 0) / a2.sum()
        theory = theory_curve(eta, a2, ps, cfg.ridge)
        out["Eg_theory"][name] = theory
        # The theory's E_g averages over the whole pool, whose images are training images with
        # probability p/m; there the fit is exact up to the ridge (error about 1e-6), so on the
        # held-out images the same theory predicts E_g · m/(m − p). That is the fair comparison for
        # a held-out measurement, and the pool itself is no test set: at p = 200 more than half of
        # it was trained on.
        out["Eg_theory_heldout"][name] = theory * m / (m - ps)
        out["pool"][name] = m
        held, held_sem, pool, pool_sem = [], [], [], []
        for p in ps:
            # Random training subsets of distinct images (a random permutation's first p entries);
            # the rest of the permutation is the held-out images of the trial.
            perm = torch.rand(cfg.trials, m, generator=gen, dtype=torch.float64).argsort(dim=1)  # (T, m)
            idx, rest = perm[:, : int(p)], perm[:, int(p) :]  # (T, p), (T, m − p)
            Ktr = K[idx[:, :, None], idx[:, None, :]]  # (T, p, p)
            alpha = torch.linalg.solve(Ktr + cfg.ridge * torch.eye(int(p), dtype=torch.float64), y[idx][..., None])  # (T, p, 1)
            f = (K[idx].transpose(1, 2) @ alpha)[..., 0]  # predictions on the whole pool, (T, m)
            sq = (f - y).pow(2)  # (T, m)
            for errs, mean_, sem_ in ((torch.gather(sq, 1, rest).mean(1), held, held_sem), (sq.mean(1), pool, pool_sem)):
                mean_.append(float(errs.mean()))
                sem_.append(float(errs.std() / math.sqrt(cfg.trials)))
        out["Eg_heldout"][name], out["Eg_heldout_sem"][name] = np.array(held), np.array(held_sem)
        out["Eg_pool"][name], out["Eg_pool_sem"][name] = np.array(pool), np.array(pool_sem)
    return out


def learned_summary(ks: list[int], per_model: list[list[int | None]]) -> dict:
    """Headline numbers of the learned steps: the extremes, per frequency, and the near ties.

    ``learned_at_min``/``learned_at_max``: the smallest and largest step over every model and
    frequency (None when some model never learns some frequency, for the max). ``learned_at_by_freq``:
    {k: {"min", "max"}} over models. A near tie: one model learns two neighbouring frequencies of the
    target (k_j and k_{j+1}) with the later step at most NEAR_TIE times the earlier (both steps ≥ 1).
    ``closest_neighbour_ratio``: the smallest later/earlier step ratio over models and neighbouring
    frequencies (a ratio below 1: learned out of order).
    """
    flat = [s for m in per_model for s in m]
    known = [s for s in flat if s is not None]
    by_freq = {}
    for j, k in enumerate(ks):
        col = [m[j] for m in per_model]
        by_freq[str(k)] = {"min": min((s for s in col if s is not None), default=None),
                           "max": None if None in col else max(col)}
    ties, ratios = [], []
    for i, m in enumerate(per_model):
        for j in range(len(ks) - 1):
            a, b = m[j], m[j + 1]
            if a is None or b is None:
                continue
            r = max(b, 1) / max(a, 1)
            ratios.append(r)
            if 1 / NEAR_TIE <= r <= NEAR_TIE:
                ties.append({"model": i, "k": [ks[j], ks[j + 1]], "steps": [a, b]})
    return {
        "learned_at_min": min(known) if known else None,
        "learned_at_max": None if None in flat or not flat else max(flat),
        "learned_at_by_freq": by_freq,
        "near_tie_factor": NEAR_TIE,
        "near_ties": ties,
        "near_tie_count": len(ties),
        "closest_neighbour_ratio": min(ratios) if ratios else None,
    }


def ratio_summary(ps: np.ndarray, ratios: dict[str, np.ndarray]) -> dict:
    """Per task, the measured/theory ratio's range over every p and from RATIO_FROM_P samples on, and
    the largest p up to which it stays within 10% of 1 at every p (None: not even at the smallest)."""
    ps = np.asarray(ps)
    from_ = ps >= RATIO_FROM_P
    out: dict = {"from_p": int(ps[from_][0]) if from_.any() else None}
    for name, r in ratios.items():
        r = np.asarray(r, dtype=float)
        close = np.abs(r - 1) <= 0.1
        n_close = int(np.argmin(close)) if not close.all() else len(r)  # leading run of p within 10%
        out[name] = {
            "min": float(r.min()), "max": float(r.max()),
            "min_from_p": float(r[from_].min()) if from_.any() else None,
            "max_from_p": float(r[from_].max()) if from_.any() else None,
            "within_10pct_up_to_p": int(ps[n_close - 1]) if n_close else None,
        }
    return out


# ----------------------------------------------------------------------------------------------
# Figures and entry point
# ----------------------------------------------------------------------------------------------


def draw_spectral(t, spec: dict, cfg: Config, narrow: bool = False):
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    ks, rel, learned, per_model = spec["k"], spec["rel"], spec["learned_at"], spec["learned_at_per_model"]
    # Heat-map columns at log-spaced steps, resampled onto a uniform log grid (imshow wants equal widths).
    cols = np.unique(np.round(np.geomspace(1, cfg.steps, 160)).astype(int))
    log_edges = np.log10(np.concatenate([[1.0], np.sqrt(cols[:-1] * cols[1:]), [cfg.steps]]))
    grid = np.linspace(0, np.log10(cfg.steps), 240)
    pick = np.clip(np.searchsorted(log_edges, grid, side="right") - 1, 0, len(cols) - 1)

    if narrow:
        fig, (ax, ax2) = narrow_subplots((2.4, 2.4))
    else:
        # Stacked, 6.9 in wide: a laptop's 688 px column shows it unscaled, its text at 12 px and up.
        fig, (ax, ax2) = plt.subplots(2, 1, figsize=(6.9, 8.4), gridspec_kw={"height_ratios": [1, 1]})
    im = ax.imshow(rel[cols[pick]].T, aspect="auto", origin="lower", cmap=t.cmap, norm=Normalize(0, 1),
                   interpolation="nearest", extent=(0, np.log10(cfg.steps), -0.5, len(ks) - 0.5))
    for j in range(len(ks)):
        # White reads on both colour maps where the residual is small (dark purple or black).
        for m in per_model:
            if m[j] is not None:
                ax.plot(np.log10(max(m[j], 1)), j, "|", ms=9, mew=1.4, color="white", alpha=0.8)
        if learned[j] is not None:
            ax.plot(np.log10(max(learned[j], 1)), j, "o", ms=8, mfc="none", mec="white", mew=1.8)
    ax.set_yticks(range(len(ks)), [str(k) for k in ks])
    ticks = [v for v in (1, 10, 100, 1000, 10000) if v <= cfg.steps]
    ax.set_xticks(np.log10(ticks), [str(v) for v in ticks])
    ax.grid(False)
    ax.set_xlabel("Adam step (log scale)")
    ax.set_ylabel("frequency k of the target")
    cb = fig.colorbar(im, ax=ax, pad=0.02, **({"location": "bottom", "aspect": 30} if narrow else {}))  # narrow: the width is the plot's
    cb.set_label("residual amplitude / target amplitude")
    cb.outline.set_edgecolor(t.muted)
    ax.set_title(f"Top: residual per frequency, mean of {cfg.seeds} MLPs. |: the first step each MLP's\n"
                 f"own residual is below {cfg.threshold:g}; ○: the median of those steps")

    ax2.plot(spec["x"], spec["target"], color=t.fg, lw=2.2, label="target Σ sin(2πkx)")
    for i, (step, f) in enumerate(sorted(spec["snapshots"].items())):
        ax2.plot(spec["x"], f, color=t.color(i), lw=1.3, label=f"network after {step} steps")
    ax2.set_xlabel("input x")
    ax2.set_ylabel("output")
    ax2.set_title("Bottom: one network: coarse shape first, fast wiggles last")
    title = "Spectral bias: an MLP learns the frequencies of its target in increasing order"
    if narrow:
        ax2.set_ylim(-4.6, 4.6)  # no legend inside
        for a in (ax, ax2):
            a.set_title(wrap(a.get_title()))
        legend_below(ax2)
        fig.suptitle(wrap(title, width_in=NARROW_TEXT_IN + 0.3))
        return fit_height(fig, (ax, ax2), (2.4, 2.4))
    ax2.set_ylim(-4.6, 6.6)
    ax2.legend(loc="upper right", fontsize=9, ncol=2)
    for a in (ax, ax2):
        a.set_title(wrap(a.get_title(), 10, 6.2), fontsize=10)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def draw_alignment(t, align: dict, cfg: Config, narrow: bool = False):
    import matplotlib.pyplot as plt

    if narrow:
        fig, axes = narrow_subplots((2.4, 2.4, 2.4))
    else:
        fig, axes = plt.subplots(3, 1, figsize=(6.9, 11.5))  # stacked: a laptop's 688 px column shows it unscaled
    n_modes = max(align["pool"].values())
    for i, name in enumerate(TASKS):
        c = t.color(i)
        rho = np.arange(1, len(align["eta"][name]) + 1)
        axes[0].plot(rho, align["eta"][name].numpy(), color=c, lw=1.5, label=f"{name} ({align['pool'][name]} images)")
        axes[1].plot(rho, align["C"][name].numpy(), color=c, lw=1.8, label=name)
        axes[2].errorbar(align["p"], align["Eg_heldout"][name], yerr=align["Eg_heldout_sem"][name], fmt="o", ms=4.5,
                         color=c, label=f"{name} measured on held-out images ({cfg.trials} training sets)")
        axes[2].plot(align["p"], align["Eg_theory_heldout"][name], "--", color=c, lw=1.4,
                     label=f"{name} theory (Eq. 4), for held-out images")
    axes[0].set_yscale("log")
    plain_log_axis(axes[0].yaxis)
    axes[0].set_ylim(1e-6, 2)
    axes[0].set_title("Top: kernel eigenvalues η_ρ")
    axes[0].set_ylabel("eigenvalue of K / m")
    axes[1].set_ylim(0, 1.02)
    axes[1].set_title("Middle: cumulative target power C(ρ)")
    axes[1].set_ylabel("fraction of ‖y‖² in the top ρ modes")
    for ax in axes[:2]:
        ax.set_xscale("log")
        ax.set_xlim(1, n_modes)
        plain_log_axis(ax.xaxis)
        ax.set_xlabel("eigenmode rank ρ")
        if not narrow:
            ax.legend(fontsize=9, loc="lower left" if ax is axes[0] else "lower right")
    axes[2].set_xscale("log")
    axes[2].set_yscale("log")
    plain_log_axis(axes[2].xaxis)
    plain_log_axis(axes[2].yaxis)
    axes[2].set_xlabel("training samples p")
    axes[2].set_ylabel("held-out error E_g (MSE)")
    r01, r89 = align["ratio_summary"]["0/1"], align["ratio_summary"]["8/9"]
    axes[2].set_title(f"Bottom: learning curves on held-out images (not trained on): 0/1 measured\n"
                      f"{r01['min_from_p']:.1f}–{r01['max_from_p']:.1f}× the theory from p = {align['ratio_summary']['from_p']}, "
                      f"8/9 within 10% of it up to p = {r89['within_10pct_up_to_p']}")
    title = "Task-model alignment: the task whose power sits in the top kernel\nmodes (0/1) is learned from fewer samples"
    if narrow:
        for ax in axes:
            ax.set_title(wrap(ax.get_title()))
            legend_below(ax)
        fig.suptitle(wrap(title, width_in=NARROW_TEXT_IN + 0.3))
        return fit_height(fig, axes, (2.4, 2.4, 2.4))
    axes[2].legend(fontsize=9, loc="lower left")
    for ax in axes:
        ax.set_title(wrap(ax.get_title(), 10, 6.5), fontsize=10)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def phenomenon(data: dict) -> list[Claim]:
    spec, align = data["spectral"], data["alignment"]
    ks, per_model = spec["k"], spec["learned_at_per_model"]
    every = all(s is not None for m in per_model for s in m)
    median = spec["learned_at"]
    ordered = every and all(a < b for a, b in zip(median, median[1:]))
    swaps = sum(a >= b for m in per_model for a, b in zip(m, m[1:]) if a is not None and b is not None)
    spread = [m[-1] / max(m[0], 1) for m in per_model if m[0] is not None and m[-1] is not None]
    e01, e89 = np.array(align["Eg_heldout"]["0/1"]), np.array(align["Eg_heldout"]["8/9"])
    c01, c89 = np.array(align["C"]["0/1"]), np.array(align["C"]["8/9"])
    ratio = {t: np.array(align["ratio_empirical_to_theory"][t]) for t in TASKS}
    return [
        Claim("every MLP learns every frequency within the run (steps per MLP)",
              "; ".join(",".join(str(s) for s in m) for m in per_model), every),
        Claim("the median step (○) rises strictly with the frequency", ",".join(str(s) for s in median), ordered),
        Claim(f"every MLP learns k = {ks[-1]} ≥ 10× later than k = {ks[0]}",
              f"{min(spread):.0f}× or more" if spread else "–", bool(spread) and len(spread) == len(per_model) and min(spread) >= 10),
        Claim("neighbouring frequencies learned out of order by a single MLP (reported)", str(swaps), None),
        Claim(f"near ties: one MLP learns neighbouring frequencies ≤ {NEAR_TIE:g}× apart in step "
              "(count; closest ratio; latest step of any; reported)",
              f"{spec['near_tie_count']}; "
              + ("–" if spec["closest_neighbour_ratio"] is None else f"{spec['closest_neighbour_ratio']:.2f}")
              + f"; {spec['learned_at_max']}", None),
        Claim("0/1 has more power in the top 5 kernel modes than 8/9 (C at ρ = 5)", f"{c01[4]:.2f} vs {c89[4]:.2f}",
              bool(c01[4] > c89[4] + 0.05), deterministic=True),
        Claim("0/1 is learned from fewer samples: lower held-out error at every p, < half at the largest",
              f"{e01[-1]:.3f} vs {e89[-1]:.3f} at p = {align['p'][-1]}", bool(np.all(e01 < e89) and e01[-1] < 0.5 * e89[-1])),
        Claim("theory (Eq. 4, for held-out images) within a factor 2.5 of the held-out measurement at every p, both tasks",
              f"0/1 {ratio['0/1'].min():.2f}–{ratio['0/1'].max():.2f}, 8/9 {ratio['8/9'].min():.2f}–{ratio['8/9'].max():.2f}",
              bool(all(np.all((r > 0.4) & (r < 2.5)) for r in ratio.values()))),
    ]


def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    # Tiny networks and small kernel matrices: the CPU is the right device for both parts.
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    spec = train_spectral(cfg, gen)
    align = alignment(cfg, gen)
    align["ratio_empirical_to_theory"] = {name: align["Eg_heldout"][name] / align["Eg_theory_heldout"][name] for name in TASKS}
    align["ratio_summary"] = ratio_summary(align["p"], align["ratio_empirical_to_theory"])
    save_figure(lambda t, narrow=False: draw_spectral(t, spec, cfg, narrow=narrow), out_dir, "spectral", narrow=True)
    save_figure(lambda t, narrow=False: draw_alignment(t, align, cfg, narrow=narrow), out_dir, "alignment", narrow=True)

    cols = np.unique(np.round(np.geomspace(1, cfg.steps, 160)).astype(int))
    n_rho = min(align["pool"].values())  # both tasks' spectra, truncated to a common length
    data = {
        "spectral": {
            "k": spec["k"],
            "learned_at": spec["learned_at"],  # median over models of learned_at_per_model
            "learned_at_per_model": spec["learned_at_per_model"],  # first step each model's residual is below the threshold
            **learned_summary(spec["k"], spec["learned_at_per_model"]),
            "threshold": cfg.threshold,
            "steps": cfg.steps,
            "residual_steps": cols,
            "residual": spec["rel"][cols].T,  # one row per frequency, at the steps above (mean over models)
            "final_loss": spec["final_loss"],
        },
        "alignment": {
            "rho": np.arange(1, n_rho + 1),
            "C": {name: align["C"][name][:n_rho] for name in TASKS},
            "eta": {name: align["eta"][name][:n_rho] for name in TASKS},
            "p": align["p"],
            "Eg_heldout": align["Eg_heldout"],  # measured on the pool's images not in the training sample
            "Eg_heldout_sem": align["Eg_heldout_sem"],
            "Eg_pool": align["Eg_pool"],  # averaged over the whole pool, training images included (not a test error)
            "Eg_pool_sem": align["Eg_pool_sem"],
            "Eg_theory": align["Eg_theory"],  # Eq. 4: the error on an image drawn from the whole pool
            "Eg_theory_heldout": align["Eg_theory_heldout"],  # the same, for held-out images: Eg_theory · m/(m − p)
            "ratio_empirical_to_theory": align["ratio_empirical_to_theory"],  # Eg_heldout / Eg_theory_heldout
            "ratio_summary": align["ratio_summary"],
            "pool_size": align["pool"],
            "kernel": f"RBF, length scale {cfg.bandwidth:g}",
            "ridge": cfg.ridge,
        },
    }
    write_data(out_dir, data)
    return data


if __name__ == "__main__":
    demo_main(Config, run)
