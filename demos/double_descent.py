"""Double descent: test risk peaks where the model can just interpolate, then falls again.

Four views of the same phenomenon, all with the minimum-norm least-squares fit (the solution that
gradient descent started from zero converges to on an under-determined least-squares problem):

* ``linear``: isotropic Gaussian features, ``n`` samples, ``p`` features, ``y = x·β + σ ε`` with
  ``‖β‖ = r``. The test risk ``‖β̂ − β‖²`` is measured over many draws and overlaid with the exact
  finite-``n`` expectation (inverse-Wishart moments) and the proportional-limit curve of Hastie,
  Montanari, Rosset and Tibshirani (2019, Thm 1, with ``γ = p/n``). The figure should make obvious
  that the risk blows up as ``p → n`` from either side and comes back down for ``p > n``. Past ``n``
  the exact risk ``r²(1 − n/p) + σ² n/(p − n − 1)`` has an interior minimum only when ``σ < r``: at
  ``p/(p − n − 1) = r/σ`` (``p = 2n + 2``, ``γ ≈ 2`` at the default ``σ = 0.5``), after which it rises
  slowly towards ``r²``; for ``σ ≥ r`` it falls all the way towards ``r²`` from above, and the figure's
  title says which (``linear.theory_past_n`` in the data). Near the peak the risk is heavy-tailed:
  its variance is infinite for ``|p − n| ≤ 3`` (the second moment of an inverse Wishart matrix needs
  ``|n − p| − 3 > 0``), so a mean of draws there is noise. The figure plots medians with quartiles at
  every ``p`` and means only where the variance is finite.
* ``misspecified`` (Hastie et al. 2019, §5): the response depends on ``d`` features, all equally
  important (``β`` uniform on the sphere of radius ``r`` in ``R^d``), but the learner sees only the
  first ``p``; what it does not see acts as extra noise of variance ``r²(1 − p/d)``. For ``p > d``
  the extra features are pure noise (zero coefficient). Here every model with ``p < n`` is worse than
  predicting zero, and the overparameterized fit with all ``d`` features in beats every one of them:
  the figure should make obvious that the lowest risk of the sweep lies right of the peak.
* ``rff``: random Fourier features on 300 scikit-learn digits (the experiment of Belkin, Hsu, Ma and
  Mandal 2019 at toy scale): test squared loss and classification error against the number of
  features ``N`` peak at ``N = n`` and, far past it, end below the best model with ``N < n``.
* ``ridge``: the linear problem again with a ridge penalty. A little regularisation lowers the
  peak; a larger one leaves no interior maximum at all (the largest mean is then at the largest
  ``p``: ``ridge.max_is_interior`` per λ in the data), and the well-tuned penalty
  (``λ* = σ² p / (n r²)``) removes the peak: its risk rises with ``p`` (each ``p`` is a harder
  problem, with more coefficients to estimate at the same signal norm), up to dips between
  neighbouring ``p`` of the size of the Monte Carlo noise (``ridge.tuned_largest_dip``) (Advani and
  Saxe 2017; Nakkiran, Venkat, Kakade and Ma 2020).

References: arXiv 1903.08560 (Hastie et al.), 1812.11118 (Belkin et al.), 1710.03667 (Advani and
Saxe), 2003.01897 (Nakkiran et al.), 1912.02292 (Nakkiran et al., deep double descent).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from demos._common import (NARROW_FONT, NARROW_TEXT_IN, Claim, demo_main, fit_height, legend_below, narrow_subplots,
                           plain_log_axis, save_figure, wrap, write_data)


@dataclass
class Config:
    n: int = 100  # training samples of the linear model
    sigma: float = 0.5  # label-noise standard deviation of the linear model
    r: float = 1.0  # norm of the true coefficient vector β
    trials: int = 100  # independent (X, β, noise) draws per p
    gamma_max: float = 10.0  # largest p/n in the linear sweep
    num_p: int = 20  # log-spaced p values in the linear sweep (a few are added around p = n)
    chunk: int = 50  # trials solved together in one batched call (bounds memory at large p)
    ridge_lambdas: str = "0,0.001,0.01,0.1,1"  # ridge strengths λ (penalty n·λ·‖β‖²), comma separated
    mis_d: int = 400  # misspecified model: features the response depends on (the learner sees p of them)
    rff_n: int = 300  # training digits for the random-Fourier-feature model
    rff_max_ratio: float = 10.0  # largest N/n in the random-feature sweep
    rff_num_N: int = 16  # log-spaced feature counts N (N = n itself is always added)
    rff_draws: int = 4  # independent random-feature draws averaged per N
    rff_bandwidth: float = 2.0  # RBF length scale ℓ of the features (pixels scaled to [0, 1])
    seed: int = 0  # seed of every random draw


FIGURES = {
    "linear": "Ridgeless least squares on Gaussian features: empirical risk, exact finite-n risk and the asymptotic curve against p/n",
    "misspecified": "Ridgeless least squares when the learner sees only p of the d features that matter: the lowest risk is past the peak",
    "rff": "Random Fourier features on 300 digits: test squared loss and classification error against the number of features N",
    "ridge": "Ridge at a few strengths on the linear model: the interpolation peak shrinks as λ grows and vanishes at the tuned λ",
}

FINITE_VARIANCE_GAP = 4  # the risk's variance is finite only for |p − n| ≥ 4
TUNED_DIP_SE = 3.0  # a fall of the tuned-ridge mean between neighbouring p within this many standard errors is noise


# ----------------------------------------------------------------------------------------------
# Linear model: exact and asymptotic risk
# ----------------------------------------------------------------------------------------------


def exact_risk(p: np.ndarray, n: int, sigma: float, r: float) -> np.ndarray:
    """E‖β̂ − β‖² of min-norm least squares with x ~ N(0, I_p), finite n (inf for |p − n| ≤ 1).

    p ≤ n − 2: only variance, σ² tr E[(XᵀX)⁻¹] = σ² p / (n − p − 1) (inverse-Wishart mean).
    p ≥ n + 2: bias r² (1 − n/p) (the part of β outside the row space of X, by rotational
    invariance) plus variance σ² tr E[(XXᵀ)⁻¹] = σ² n / (p − n − 1).
    """
    return misspecified_risk(p, n, sigma, r, d=None)


def misspecified_risk(p: np.ndarray, n: int, sigma: float, r: float, d: int | None) -> np.ndarray:
    """Exact expected test risk when the response depends on d isotropic features and the learner sees p.

    β is uniform on the sphere of radius r in R^d, so the p seen coefficients carry r_p² = r² min(p, d)/d
    of the signal and the unseen ones r_u² = r² − r_p². The unseen part x_uᵀβ_u is independent of the
    seen features, so it acts as noise: the fit is the well-specified one with noise σ² + r_u², and the
    risk E[(xᵀβ − x_pᵀβ̂)²] adds r_u², which no fit can remove. ``d=None``: the well-specified model
    (r_u = 0), whose risk is E‖β̂ − β‖².
    """
    p = np.asarray(p, dtype=float)
    r_seen2 = np.full_like(p, r**2) if d is None else r**2 * np.minimum(p, d) / d
    r_unseen2 = r**2 - r_seen2
    noise = sigma**2 + r_unseen2
    out = np.full_like(p, np.inf)
    under, over = p <= n - 2, p >= n + 2
    out[under] = r_unseen2[under] + noise[under] * p[under] / (n - p[under] - 1)
    out[over] = r_unseen2[over] + r_seen2[over] * (1 - n / p[over]) + noise[over] * n / (p[over] - n - 1)
    return out


def asymptotic_risk(gamma: np.ndarray, sigma: float, r: float) -> np.ndarray:
    """Hastie et al. (2019), Thm 1: the limit of the risk as n, p → ∞ with p/n → γ."""
    gamma = np.asarray(gamma, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gamma < 1, sigma**2 * gamma / (1 - gamma), r**2 * (1 - 1 / gamma) + sigma**2 / (gamma - 1))


def past_n_summary(p_fine: np.ndarray, exact_fine: np.ndarray, ps: list[int], theory: np.ndarray, n: int) -> dict:
    """Where the exact risk goes past the interpolation threshold (p > n), for the figure's title and the prose.

    ``p_first``/``risk_first`` and ``p_last``/``risk_last``: the first and the largest p of the sweep
    past n and the exact risk there; ``p_first_away``/``risk_first_away``: the first p of the sweep
    past n + n/4, out of the peak (the distance from n from which the mean is compared with the
    exact risk). The minimum is searched on every integer p from n + 2 to the
    largest p: ``interior_min`` says whether it lies before the largest p (σ < r), and ``min_p``,
    ``min_gamma``, ``min_risk`` give it (null when the risk only falls, as for σ ≥ r).
    """
    over = p_fine > n
    p_over, r_over = p_fine[over], exact_fine[over]
    i = int(np.argmin(r_over))
    interior = i < len(p_over) - 1
    grid = [(p, t) for p, t in zip(ps, theory) if p > n]
    away = [(p, t) for p, t in grid if p - n >= 0.25 * n] or [grid[-1]]
    return {
        "p_first": grid[0][0], "risk_first": float(grid[0][1]),
        "p_first_away": away[0][0], "risk_first_away": float(away[0][1]),
        "p_last": grid[-1][0], "risk_last": float(grid[-1][1]),
        "interior_min": bool(interior),
        "min_p": int(p_over[i]) if interior else None,
        "min_gamma": float(p_over[i] / n) if interior else None,
        "min_risk": float(r_over[i]) if interior else None,
        "falls_throughout": bool(np.all(np.diff(r_over) < 0)),
    }


def ridge_shape(ridge_mean: np.ndarray, tuned_sem: np.ndarray, ps: list[int], finite: np.ndarray) -> dict:
    """Per λ, where its mean risk is largest over the p compared (where the min-norm mean exists); for
    the tuned λ*, how far its mean ever falls from one p to the next.

    A maximum at the largest p is no peak: the curve just rises. ``max_is_interior`` says which;
    ``peak_interior`` is the height of the peak where there is one (null where not).
    ``tuned_largest_dip``: the largest relative fall (t[i-1] − t[i]) / t[i-1] of the tuned curve
    between neighbouring p of the sweep (0 where it never falls), at ``tuned_largest_dip_p`` (the p
    after the fall); Monte Carlo noise of the means makes small ones. ``tuned_largest_dip_se``: the
    largest fall in units of its standard error, sqrt(se[i-1]² + se[i]²) (every p has its own draws),
    so a value below about 3 is a fall the noise alone explains.
    """
    p_cmp = np.array(ps)[finite]
    sub = ridge_mean[finite, :-1]  # (P', L)
    arg = np.nanargmax(sub, axis=0)  # (L,)
    interior = (arg > 0) & (arg < len(p_cmp) - 1)
    tuned = ridge_mean[:, -1]
    falls = np.maximum(0.0, (tuned[:-1] - tuned[1:]) / tuned[:-1])  # (P - 1,)
    j = int(np.argmax(falls))
    in_se = np.maximum(0.0, tuned[:-1] - tuned[1:]) / np.sqrt(tuned_sem[:-1] ** 2 + tuned_sem[1:] ** 2)
    return {
        "max_p": p_cmp[arg],
        "max_is_interior": interior,
        "peak_interior": [float(sub[a, k]) if ok else None for k, (a, ok) in enumerate(zip(arg, interior))],
        "tuned_max_p": ps[int(np.argmax(tuned))],
        "tuned_max_at_last_p": bool(np.argmax(tuned) == len(tuned) - 1),
        "tuned_largest_dip": float(falls[j]),
        "tuned_largest_dip_p": ps[j + 1] if falls[j] > 0 else None,
        "tuned_largest_dip_se": float(in_se.max()),
        "tuned_sem": tuned_sem,
    }


def p_grid(n: int, gamma_max: float, num_p: int) -> list[int]:
    """Log-spaced p from about n/20 to gamma_max·n, densified around n, without n − 1, n, n + 1."""
    ps = set(np.unique(np.round(np.geomspace(max(2, n // 20), gamma_max * n, num_p))).astype(int).tolist())
    # Points close to the peak, where the risk changes fastest.
    ps |= {n + d for d in (-10, -5, -2, 2, 5, 10) if n + d >= 2}
    return sorted(p for p in ps if abs(p - n) >= 2)


def fit_ridge(X: torch.Tensor, y: torch.Tensor, nlam: torch.Tensor) -> torch.Tensor:
    """Ridge solutions β̂ (t, k, L, p) for k responses y (t, k, n) and every strength n·λ in ``nlam`` (L,).

    One eigendecomposition of the smaller Gram matrix per draw serves every response and every λ:
    p ≤ n:  β̂ = V diag(1 / (s² + nλ)) Vᵀ Xᵀy        with XᵀX = V diag(s²) Vᵀ;
    p > n:  β̂ = Xᵀ U diag(1 / (s² + nλ)) Uᵀ y       with XXᵀ = U diag(s²) Uᵀ.
    At λ = 0 both are the pseudo-inverse solution X⁺y, the minimum-norm least-squares fit.
    """
    n, p = X.shape[1:]
    shrink = lambda s2: 1.0 / (s2[:, None, None, :] + nlam[None, None, :, None])  # (t, 1, L, r)
    if p <= n:
        s2, V = torch.linalg.eigh(X.transpose(1, 2) @ X)  # (t, p), (t, p, p)
        Vb = (y @ X) @ V  # Vᵀ Xᵀ y, (t, k, p)
        return (shrink(s2) * Vb[:, :, None, :]) @ V.transpose(1, 2)[:, None]  # (t, k, L, p)
    s2, U = torch.linalg.eigh(X @ X.transpose(1, 2))  # (t, n), (t, n, n)
    Uy = y @ U  # Uᵀ y, (t, k, n)
    alpha = (shrink(s2) * Uy[:, :, None, :]) @ U.transpose(1, 2)[:, None]  # dual coefficients, (t, k, L, n)
    return alpha @ X[:, None]  # (t, k, L, p)


def sphere(t: int, dim: int, r: float, gen: torch.Generator) -> torch.Tensor:
    """t vectors uniform on the sphere of radius r in R^dim, (t, dim), float64."""
    g = torch.randn(t, dim, generator=gen).double()
    return r * g / g.norm(dim=1, keepdim=True)


def linear_risks(cfg: Config, ps: list[int], lambdas: list[float], gen: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Risks of the well-specified model (P, L + 1, T) and of the misspecified one (P, T), every p and trial.

    Well-specified: ‖β̂_λ − β‖² for every ridge strength (λ = 0 is min-norm); the tuned strength
    λ*(p) = σ² p / (n r²), the Bayes-optimal one for an isotropic prior of the same norm, is appended
    as a last column. Misspecified (min-norm only): the response depends on d features and the learner
    sees the first p (for p > d, d features and p − d with zero coefficient). The unseen term x_uᵀβ_u
    is independent of the seen features and Gaussian with variance ‖β_u‖², so it is drawn as one noise
    term, and the test risk E(xᵀβ − x_pᵀβ̂)² is computed exactly: ‖β̂ − β_p‖² + ‖β_u‖². Both models
    share the design matrices X of each trial (their responses differ), so one eigendecomposition
    serves both.
    """
    n, T, d = cfg.n, cfg.trials, cfg.mis_d
    risks = np.zeros((len(ps), len(lambdas) + 1, T))  # (P, L+1, T)
    mis = np.zeros((len(ps), T))  # (P, T)
    for i, p in enumerate(ps):
        nlam = n * torch.tensor(lambdas + [cfg.sigma**2 * p / (n * cfg.r**2)], dtype=torch.float64)  # (L+1,)
        for start in range(0, T, cfg.chunk):
            t = min(cfg.chunk, T - start)
            # Sampled in float32 (three times faster), solved in float64 (the peak is ill-conditioned).
            X = torch.randn(t, n, p, generator=gen).double()  # (t, n, p)
            noise = lambda: torch.randn(t, n, generator=gen).double()
            beta = sphere(t, p, cfg.r, gen)  # (t, p)
            y = (X @ beta[:, :, None])[..., 0] + cfg.sigma * noise()  # (t, n)
            full = torch.zeros(t, max(p, d), dtype=torch.float64)  # misspecified: coordinates past d stay zero
            full[:, :d] = sphere(t, d, cfg.r, gen)
            seen, unseen2 = full[:, :p], full[:, p:].pow(2).sum(1)  # (t, p), (t,)
            y_mis = (X @ seen[:, :, None])[..., 0] + unseen2.sqrt()[:, None] * noise() + cfg.sigma * noise()
            bhat = fit_ridge(X, torch.stack([y, y_mis], dim=1), nlam)  # (t, 2, L+1, p)
            risks[i, :, start : start + t] = ((bhat[:, 0] - beta[:, None, :]) ** 2).sum(-1).T.numpy()
            mis[i, start : start + t] = (((bhat[:, 1, 0] - seen) ** 2).sum(-1) + unseen2).numpy()
    return risks, mis


def summary(risks: np.ndarray, ps: list[int], n: int) -> dict:
    """Median and quartiles at every p; the mean only where the risk has a finite variance."""
    q25, median, q75 = np.percentile(risks, [25, 50, 75], axis=-1)
    finite = np.abs(np.array(ps) - n) >= FINITE_VARIANCE_GAP
    return {"risk_mean": np.where(finite, risks.mean(-1), np.nan), "risk_median": median,
            "risk_q25": q25, "risk_q75": q75, "mean_is_finite_variance": finite}


# ----------------------------------------------------------------------------------------------
# Random Fourier features on digits
# ----------------------------------------------------------------------------------------------


def rff_sweep(cfg: Config, gen: torch.Generator) -> dict[str, np.ndarray]:
    """Min-norm least squares on N random Fourier features, test loss and error for each N.

    φ(x) = sqrt(2/N) cos(Wx + b), W ~ N(0, I/ℓ²), b ~ U[0, 2π): φ(x)·φ(x') approximates the RBF
    kernel exp(−‖x − x'‖² / 2ℓ²), so the N → ∞ limit is the minimum-norm kernel interpolant.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = torch.tensor(digits.data / 16.0, dtype=torch.float32)  # (1797, 64)
    labels = torch.tensor(digits.target)
    Y = torch.nn.functional.one_hot(labels, 10).to(torch.float64)  # one-hot targets, (1797, 10)
    perm = torch.randperm(len(X), generator=gen)
    tr, te = perm[: cfg.rff_n], perm[cfg.rff_n :]
    n, D = cfg.rff_n, cfg.rff_draws
    Ns = sorted(set(np.unique(np.round(np.geomspace(10, cfg.rff_max_ratio * n, cfg.rff_num_N))).astype(int).tolist()) | {n})
    mse = np.zeros((len(Ns), D))
    err = np.zeros((len(Ns), D))
    for i, N in enumerate(Ns):
        W = torch.randn(D, X.shape[1], N, generator=gen) / cfg.rff_bandwidth  # (D, 64, N)
        b = 2 * math.pi * torch.rand(D, 1, N, generator=gen)  # (D, 1, N)
        # Features in float32 (cheap), the solve in float64: the fit at N ≈ n is badly conditioned.
        phi = lambda x: (math.sqrt(2.0 / N) * torch.cos(x @ W + b)).double()  # (D, m, N)
        # SVD-based least squares (LAPACK gelsd): the minimum-norm solution, batched over draws.
        coef = torch.linalg.lstsq(phi(X[tr]), Y[tr].expand(D, -1, -1), driver="gelsd").solution  # (D, N, 10)
        pred = phi(X[te]) @ coef  # (D, m_test, 10)
        mse[i] = ((pred - Y[te]) ** 2).sum(-1).mean(-1).numpy()  # squared loss summed over the 10 outputs
        err[i] = (pred.argmax(-1) != labels[te]).double().mean(-1).numpy()
    return {"N": np.array(Ns), "mse": mse, "err": err, "n_test": len(te)}


# ----------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------


def plain_log_axes(ax) -> None:
    plain_log_axis(ax.xaxis)
    plain_log_axis(ax.yaxis)


def _empirical(ax, t, gamma: np.ndarray, s: dict, trials: int, color_mean, color_median) -> None:
    """Medians with quartile bars at every p; means (open circles) only where the variance is finite."""
    med, q25, q75 = np.array(s["risk_median"]), np.array(s["risk_q25"]), np.array(s["risk_q75"])
    ax.errorbar(gamma, med, yerr=[med - q25, q75 - med], fmt="s", ms=4, color=color_median, elinewidth=1,
                capsize=2, label=f"median of {trials} draws, bars: quartiles")
    mean = np.array(s["risk_mean"], dtype=float)
    ok = np.isfinite(mean)
    ax.plot(gamma[ok], mean[ok], "o", mfc="none", mew=1.3, ms=7, color=color_mean,
            label=f"mean (only where its variance is finite, |p − n| ≥ {FINITE_VARIANCE_GAP})")


def linear_title(lin: dict) -> str:
    """The linear figure's title, from the exact risk past n: a minimum only where it has one."""
    past, n = lin["theory_past_n"], lin["n"]
    if past["interior_min"]:
        rest = f"to a minimum near γ = {past['min_gamma']:.1f} (p = {past['min_p']}), then rises slowly towards r²"
    else:
        rest = (f"and keeps falling to the largest p (exact risk {past['risk_last']:.2f} at γ = {past['p_last'] / n:g}),"
                " towards r² from above")
    return f"Min-norm least squares (σ = {lin['sigma']:g}): the risk explodes at p = n, descends again\nfor p > n {rest}"


def draw_linear(t, lin: dict, curves: dict, narrow: bool = False):
    import matplotlib.pyplot as plt

    n, gamma = lin["n"], np.array(lin["p"]) / lin["n"]
    if narrow:
        fig, (ax,) = narrow_subplots((2.6,))
    else:
        fig, ax = plt.subplots(figsize=(6.9, 4.6))  # a laptop's 688 px column shows it unscaled
    for side in (curves["p_fine"] < n, curves["p_fine"] > n):
        ax.plot(curves["p_fine"][side] / n, curves["exact_fine"][side], color=t.color(0), lw=1.6,
                label="exact finite-n mean risk" if side[0] else None)
    for side in (curves["gamma_fine"] < 1, curves["gamma_fine"] > 1):
        ax.plot(curves["gamma_fine"][side], curves["asym_fine"][side], color=t.muted, lw=1.2, ls="--",
                label="asymptotic (Hastie et al. Thm 1)" if side[0] else None)
    _empirical(ax, t, gamma, lin, lin["trials"], t.color(1), t.color(2))
    ax.axhline(lin["r"] ** 2, color=t.fg, lw=0.8, ls=":", label=f"null predictor β̂ = 0 (risk r² = {lin['r'] ** 2:g})")
    ax.axvline(1.0, color=t.muted, lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_axes(ax)
    ax.set_ylim(max(1e-3, 0.3 * np.min(lin["risk_q25"])), 4e2)
    ax.text(1.03, 2.2e2, "p = n", color=t.muted, fontsize=NARROW_FONT)
    ax.set_xlabel(f"features per sample  γ = p / n   (n = {n})")
    ax.set_ylabel("test risk  ‖β̂ − β‖²  (excess squared error)")
    if narrow:
        ax.set_title(wrap(linear_title(lin), lines=5))  # as many lines for every σ: a swept figure keeps its height
        ax.set_ylabel(wrap(ax.get_ylabel(), NARROW_FONT, 2.6))
        legend_below(ax)
        return fit_height(fig, [ax], (2.6,))
    ax.set_title(wrap(linear_title(lin), 11, 5.3, lines=3))  # as many lines for every σ: a swept figure keeps its size
    ax.yaxis.set_label_coords(-0.12, 0.5)  # where the y label stands, however wide the tick labels of this σ's limits
    ax.legend(fontsize=NARROW_FONT, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)  # under the axes, off the points
    return fig


def draw_misspecified(t, mis: dict, curves: dict, narrow: bool = False):
    import matplotlib.pyplot as plt

    n, d = mis["n"], mis["d"]
    gamma = np.array(mis["p"]) / n
    if narrow:
        fig, (ax,) = narrow_subplots((2.6,))
    else:
        fig, ax = plt.subplots(figsize=(6.9, 4.6))  # a laptop's 688 px column shows it unscaled
    for side in (curves["p_fine"] < n, curves["p_fine"] > n):
        ax.plot(curves["p_fine"][side] / n, curves["mis_fine"][side], color=t.color(0), lw=1.6,
                label="exact finite-n mean risk" if side[0] else None)
    _empirical(ax, t, gamma, mis, mis["trials"], t.color(1), t.color(2))
    ax.axhline(mis["best_under"], color=t.color(3), lw=1.2, ls="--", label=f"best mean with p < n ({mis['best_under']:.2f})")
    ax.axhline(mis["r"] ** 2, color=t.fg, lw=0.8, ls=":", label=f"null predictor (risk r² = {mis['r'] ** 2:g})")
    ax.axvline(1.0, color=t.muted, lw=0.8)
    ax.axvline(d / n, color=t.muted, lw=0.8, ls="-.")
    ax.text(d / n * 1.03, 2.2e2, "p = d", color=t.muted, fontsize=NARROW_FONT)
    ax.text(1.03, 2.2e2, "p = n", color=t.muted, fontsize=NARROW_FONT)
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_axes(ax)
    ax.set_ylim(0.05, 4e2)  # room below the curves for the legend
    ax.set_xlabel(f"features seen per sample  γ = p / n   (n = {n}, d = {d} features matter)")
    ax.set_ylabel("test risk  E(xᵀβ − x_pᵀβ̂)²")
    title = (f"Misspecified (Hastie et al. §5): the learner sees p of d = {d} equally important features;\n"
             f"the best fit ({mis['best_over']:.2f} at p = {mis['best_over_p']}) has p > n and beats every fit with p < n")
    if narrow:
        ax.set_title(wrap(title))
        ax.set_xlabel(wrap(ax.get_xlabel(), NARROW_FONT, 2.9))
        legend_below(ax)
        return fit_height(fig, [ax], (2.6,))
    ax.set_title(title)
    ax.legend(fontsize=NARROW_FONT, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)  # under the axes: at 9 pt it is wider than they are
    return fig


def draw_rff(t, rff: dict, draws: int, narrow: bool = False):
    import matplotlib.pyplot as plt

    Ns, n = np.array(rff["N"]), rff["n"]
    if narrow:
        fig, axes = narrow_subplots((2.4, 2.4))  # stacked
    else:
        fig, axes = plt.subplots(1, 2, figsize=(6.9, 4.2))  # a laptop's 688 px column shows it unscaled
    under = Ns < n
    for ax, vals, allv, label, scale in (
        (axes[0], np.array(rff["test_mse"]), np.array(rff["mse_per_draw"]), "test squared loss (sum over 10 outputs)", "log"),
        (axes[1], 100 * np.array(rff["test_error"]), 100 * np.array(rff["error_per_draw"]), "test classification error (%)", "linear"),
    ):
        for k in range(allv.shape[1]):
            ax.plot(Ns, allv[:, k], color=t.muted, lw=0.6, alpha=0.6, label="single feature draw" if k == 0 else None)
        ax.plot(Ns, vals, "o-", color=t.color(0), ms=4, lw=1.6, label=f"median of {draws} draws")
        ax.axhline(vals[under].min(), color=t.color(1), lw=1, ls="--", label="best with N < n")
        ax.axvline(n, color=t.muted, lw=0.8)
        ax.text(n * 0.93, 0.97, "N = n", color=t.muted, fontsize=NARROW_FONT, ha="right", va="top",
                transform=ax.get_xaxis_transform())
        ax.set_xscale("log")
        ax.set_yscale(scale)
        plain_log_axis(ax.xaxis)
        if scale == "log":
            plain_log_axis(ax.yaxis)
        ax.set_xlabel(f"random Fourier features N   (n = {n} training digits)")
        ax.set_ylabel(label)
    axes[1].set_ylim(0, min(100, 1.15 * 100 * max(rff["test_error"])))
    title = "Random features on digits: a peak at N = n, and far more features beat the best small model"
    if narrow:
        for ax in axes:
            ax.set_xlabel(wrap(ax.get_xlabel(), NARROW_FONT, 2.9))
            ax.set_ylabel(wrap(ax.get_ylabel(), NARROW_FONT, 2.4))
        legend_below(axes[1])
        fig.suptitle(wrap(title, width_in=NARROW_TEXT_IN + 0.3))
        return fit_height(fig, axes, (2.4, 2.4))
    for ax in axes:
        ax.set_xlabel(wrap(ax.get_xlabel(), 10, 2.9))
    axes[0].legend(fontsize=NARROW_FONT, loc="center right")
    fig.suptitle(wrap(title, 11, 6.6), fontsize=11)
    fig.tight_layout()
    return fig


def draw_ridge(t, ridge: dict, n: int, trials: int, narrow: bool = False):
    import matplotlib.pyplot as plt

    gamma = np.array(ridge["p"]) / n
    if narrow:
        fig, (ax,) = narrow_subplots((2.6,))
    else:
        fig, ax = plt.subplots(figsize=(6.9, 4.3))  # a laptop's 688 px column shows it unscaled
    for j, lam in enumerate(ridge["lambdas"]):
        risk = np.array(ridge["risk"][j], dtype=float)  # NaN (a gap in the line) where no mean is shown
        label = f"λ = {lam:g}" + ("  (min-norm; no mean at |p − n| ≤ 3)" if lam == 0 else "")
        ax.plot(gamma, risk, "o-", ms=3.5, lw=1.4, color=t.color(j), label=label)
    ax.plot(gamma, ridge["risk_tuned"], "-", lw=2.4, color=t.fg, label="tuned λ* = σ²p / (n r²)")
    ax.axvline(1.0, color=t.muted, lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_axes(ax)
    ax.set_ylim(max(1e-3, 0.5 * np.min(ridge["risk_tuned"])), 2e2)
    ax.text(1.03, 1.2e2, "p = n", color=t.muted, fontsize=NARROW_FONT)
    ax.set_xlabel(f"features per sample  γ = p / n   (n = {n})")
    ax.set_ylabel(f"mean test risk  ‖β̂ − β‖²  ({trials} draws)")
    lams = ridge["lambdas"]
    peaked = [lam for lam, ok in zip(lams, ridge["max_is_interior"]) if ok]
    flat = [lam for lam, ok in zip(lams, ridge["max_is_interior"]) if not ok]
    prefix = peaked == sorted(lams)[: len(peaked)]
    which = f"λ ≤ {max(peaked):g}" if peaked and prefix else f"λ = {', '.join(f'{lam:g}' for lam in peaked)}"
    first = f"a peak for {which}, lower as λ grows" if peaked else "no λ has a peak"
    if flat:
        first += f"; for λ = {', '.join(f'{lam:g}' for lam in flat)} the largest mean is at the largest p"
    dip, dip_se = ridge["tuned_largest_dip"], ridge["tuned_largest_dip_se"]
    tuned = ("with the tuned λ* no peak: the risk rises with p"
             + (f" (largest dip between neighbouring p: {dip:.1%}, {dip_se:.1f} standard errors)" if dip > 0 else ", at every step"))
    if narrow:
        ax.set_title(wrap(f"Ridge: {first}; {tuned}"))
        ax.set_ylabel(wrap(ax.get_ylabel(), NARROW_FONT, 2.6))
        legend_below(ax)
        return fit_height(fig, [ax], (2.6,))
    ax.set_title(wrap(f"Ridge: {first}; {tuned}", 10, 6.4), fontsize=10)
    ax.legend(fontsize=NARROW_FONT, loc="upper left")
    return fig


# ----------------------------------------------------------------------------------------------
# Headline numbers and entry point
# ----------------------------------------------------------------------------------------------


def phenomenon(data: dict) -> list[Claim]:
    lin, mis, rff, ridge = data["linear"], data["misspecified"], data["rff"], data["ridge"]
    n = lin["n"]
    p = np.array(lin["p"], dtype=float)
    mean = np.array(lin["risk_mean"], dtype=float)
    median, theory = np.array(lin["risk_median"]), np.array(lin["theory"], dtype=float)
    away = np.abs(p - n) >= 0.25 * n
    ratio = mean[away] / theory[away]
    over = p > n
    peak_p = p[np.argmax(median)]
    mp = np.array(mis["p"], dtype=float)
    mis_mean = np.array(mis["risk_mean"], dtype=float)
    mis_med = np.array(mis["risk_median"])
    under_m, over_m = mp < n, mp > n
    N = np.array(rff["N"], dtype=float)
    mse, err = np.array(rff["test_mse"]), np.array(rff["test_error"])
    below = N < rff["n"]
    peaks = [v for v in ridge["peak_interior"] if v is not None]
    peaked_lams = [lam for lam, v in zip(ridge["lambdas"], ridge["peak_interior"]) if v is not None]
    return [
        Claim("linear: mean within 25% of the exact risk wherever |p − n| ≥ n/4",
              f"{ratio.min():.2f}–{ratio.max():.2f}", bool(np.all(np.abs(ratio - 1) < 0.25))),
        Claim("linear: the median risk peaks next to p = n (within n/10)", f"p = {peak_p:g}", bool(abs(peak_p - n) <= 0.1 * n)),
        Claim("linear: second descent: median at the largest p < half the first one past n",
              f"{median[over][-1]:.2f} vs {median[over][0]:.2f}", bool(median[over][-1] < 0.5 * median[over][0])),
        Claim("misspecified: the best mean with p > n is below every mean with p < n",
              f"{np.nanmin(mis_mean[over_m]):.3f} vs {np.nanmin(mis_mean[under_m]):.3f}",
              bool(np.nanmin(mis_mean[over_m]) < np.nanmin(mis_mean[under_m]))),
        Claim("misspecified: the same for medians", f"{mis_med[over_m].min():.3f} vs {mis_med[under_m].min():.3f}",
              bool(mis_med[over_m].min() < mis_med[under_m].min())),
        Claim("rff: test-loss peak at N ≈ n (within 1.3×)", f"N = {rff['peak_N']}",
              bool(rff["n"] / 1.3 <= rff["peak_N"] <= 1.3 * rff["n"])),
        Claim("rff: the largest N beats the best N < n in loss and in error",
              f"{mse[-1]:.3f} vs {mse[below].min():.3f}; {err[-1]:.3f} vs {err[below].min():.3f}",
              bool(mse[-1] < mse[below].min() and err[-1] < err[below].min())),
        Claim("rff: the peak is > 5× the best loss with N < n", f"{mse.max() / mse[below].min():.1f}×", bool(mse.max() > 5 * mse[below].min())),
        Claim("ridge: the peak (interior maximum) falls as λ grows, for the λ that have one (λ: height)",
              ", ".join(f"{lam:g}: {v:.2f}" for lam, v in zip(peaked_lams, peaks)),
              len(peaks) >= 2 and all(a > b for a, b in zip(peaks, peaks[1:]))),
        Claim("ridge: the largest λ has no peak (its largest mean is at the largest p)",
              f"λ = {ridge['lambdas'][-1]:g}: max at p = {ridge['max_p'][-1]}", not ridge["max_is_interior"][-1]),
        Claim(f"ridge: with the tuned λ no peak: largest at the largest p, and no fall between neighbouring p "
              f"beyond {TUNED_DIP_SE:g} standard errors (largest fall: relative, in standard errors)",
              f"max at p = {ridge['tuned_max_p']}; {ridge['tuned_largest_dip']:.2%}, {ridge['tuned_largest_dip_se']:.1f} se",
              bool(ridge["tuned_max_at_last_p"] and ridge["tuned_largest_dip_se"] < TUNED_DIP_SE)),
    ]


def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    # Everything here is small dense linear algebra in float64: the CPU is the right device.
    gen = torch.Generator().manual_seed(cfg.seed)
    n = cfg.n
    lambdas = [float(s) for s in cfg.ridge_lambdas.split(",")]
    ps = sorted(set(p_grid(n, cfg.gamma_max, cfg.num_p)) | {cfg.mis_d})  # p = d: the misspecified model's best
    # The min-norm fit (λ = 0) is always solved, whether or not the ridge figure lists it.
    solved = lambdas if 0.0 in lambdas else [0.0] + lambdas
    all_risks, mis = linear_risks(cfg, ps, solved, gen)  # (P, L+1, T), last column: tuned λ*; (P, T)
    ridgeless = all_risks[:, solved.index(0.0)]  # (P, T)
    ridge_mean = all_risks[:, [solved.index(lam) for lam in lambdas] + [len(solved)]].mean(2)  # (P, L+1)
    tuned_sem = all_risks[:, -1].std(1, ddof=1) / math.sqrt(cfg.trials)  # (P,) standard error of the tuned mean
    finite = np.abs(np.array(ps) - n) >= FINITE_VARIANCE_GAP
    for j, lam in enumerate(lambdas):
        if lam == 0:
            ridge_mean[~finite, j] = np.nan  # the min-norm mean is noise where the variance is infinite
    rff = rff_sweep(cfg, gen)

    p_arr = np.array(ps, dtype=float)
    p_fine = np.arange(ps[0], int(cfg.gamma_max * n) + 1)
    p_fine = p_fine[np.abs(p_fine - n) >= 2]
    gamma_fine = np.geomspace(p_arr[0] / n, cfg.gamma_max, 600)
    gamma_fine = gamma_fine[np.abs(gamma_fine - 1) > 1e-3]
    exact_fine = exact_risk(p_fine, n, cfg.sigma, cfg.r)
    curves = {
        "p_fine": p_fine, "exact_fine": exact_fine, "gamma_fine": gamma_fine,
        "asym_fine": asymptotic_risk(gamma_fine, cfg.sigma, cfg.r),
        "mis_fine": misspecified_risk(p_fine, n, cfg.sigma, cfg.r, cfg.mis_d),
    }
    mis_summary = summary(mis, ps, n)
    mis_mean = mis_summary["risk_mean"]
    best_over = int(np.nanargmin(np.where(p_arr > n, mis_mean, np.nan)))
    # Medians over feature draws: near N = n one ill-conditioned draw can dominate a mean (as in the
    # linear model, the risk there is heavy-tailed).
    mse_mean, err_mean = np.median(rff["mse"], axis=1), np.median(rff["err"], axis=1)
    Ns = rff["N"]
    data = {
        "linear": {
            "n": n, "sigma": cfg.sigma, "r": cfg.r, "trials": cfg.trials, "p": ps,
            **summary(ridgeless, ps, n),
            "theory": exact_risk(p_arr, n, cfg.sigma, cfg.r),
            "theory_asymptotic": asymptotic_risk(p_arr / n, cfg.sigma, cfg.r),
            "theory_past_n": past_n_summary(p_fine, exact_fine, ps, exact_risk(p_arr, n, cfg.sigma, cfg.r), n),
        },
        "misspecified": {
            "n": n, "d": cfg.mis_d, "sigma": cfg.sigma, "r": cfg.r, "trials": cfg.trials, "p": ps,
            **mis_summary,
            "theory": misspecified_risk(p_arr, n, cfg.sigma, cfg.r, cfg.mis_d),
            "best_under": float(np.nanmin(np.where(p_arr < n, mis_mean, np.nan))),
            "best_over": float(mis_mean[best_over]),
            "best_over_p": ps[best_over],
        },
        "rff": {
            "n": cfg.rff_n, "n_test": rff["n_test"], "N": Ns,
            "test_mse": mse_mean, "test_error": err_mean,  # medians over the feature draws
            "mse_per_draw": rff["mse"], "error_per_draw": rff["err"],
            "peak_N": int(Ns[np.argmax(mse_mean)]),
            "best_error_below_n": float(err_mean[Ns < cfg.rff_n].min()),
            "best_mse_below_n": float(mse_mean[Ns < cfg.rff_n].min()),
        },
        "ridge": {
            "lambdas": lambdas, "p": ps,
            "risk": ridge_mean[:, :-1].T,  # one list per λ (min-norm: null where the variance is infinite)
            "risk_tuned": ridge_mean[:, -1],
            # The largest mean of each λ, over the same p for every λ (where the min-norm mean exists):
            # a peak only where max_is_interior says so (for a large λ it is the mean at the largest p).
            "peak": np.nanmax(ridge_mean[finite, :-1], axis=0),
            **ridge_shape(ridge_mean, tuned_sem, ps, finite),
        },
    }
    save_figure(lambda t, narrow=False: draw_linear(t, data["linear"], curves, narrow=narrow), out_dir, "linear", narrow=True)
    save_figure(lambda t, narrow=False: draw_misspecified(t, data["misspecified"], curves, narrow=narrow), out_dir, "misspecified", narrow=True)
    save_figure(lambda t, narrow=False: draw_rff(t, data["rff"], cfg.rff_draws, narrow=narrow), out_dir, "rff", narrow=True)
    save_figure(lambda t, narrow=False: draw_ridge(t, data["ridge"], n, cfg.trials, narrow=narrow), out_dir, "ridge", narrow=True)
    write_data(out_dir, data)
    return data


if __name__ == "__main__":
    demo_main(Config, run)
