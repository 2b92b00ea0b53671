"""Double descent: test risk peaks where the model can just interpolate, then falls again.

Three views of the same phenomenon, all with the minimum-norm least-squares fit (the solution that
gradient descent started from zero converges to on an under-determined least-squares problem):

* ``linear``: isotropic Gaussian features, ``n`` samples, ``p`` features, ``y = x·β + σ ε`` with
  ``‖β‖ = r``. The test risk ``‖β̂ − β‖²`` is measured over many draws and overlaid with the exact
  finite-``n`` expectation (inverse-Wishart moments) and the proportional-limit curve of Hastie,
  Montanari, Rosset and Tibshirani (2019, Thm 1, with ``γ = p/n``). The figure should make obvious
  that the risk blows up as ``p → n`` from either side and comes back down for ``p > n``.
* ``rff``: random Fourier features on 300 scikit-learn digits (the experiment of Belkin, Hsu, Ma and
  Mandal 2019 at toy scale): test squared loss and classification error against the number of
  features ``N`` peak at ``N = n`` and, far past it, end below the best model with ``N < n``.
* ``ridge``: the linear problem again with a ridge penalty. A little regularisation flattens the
  peak, and the well-tuned penalty (``λ* = σ² p / (n r²)``) removes it entirely, so the risk is
  monotone in ``p`` (Advani and Saxe 2017; Nakkiran, Venkat, Kakade and Ma 2020).

References: arXiv 1903.08560 (Hastie et al.), 1812.11118 (Belkin et al.), 1710.03667 (Advani and
Saxe), 2003.01897 (Nakkiran et al.), 1912.02292 (Nakkiran et al., deep double descent).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from demos._common import demo_main, save_figure, write_data


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
    rff_n: int = 300  # training digits for the random-Fourier-feature model
    rff_max_ratio: float = 10.0  # largest N/n in the random-feature sweep
    rff_num_N: int = 16  # log-spaced feature counts N (N = n itself is always added)
    rff_draws: int = 4  # independent random-feature draws averaged per N
    rff_bandwidth: float = 2.0  # RBF length scale ℓ of the features (pixels scaled to [0, 1])
    seed: int = 0  # seed of every random draw


FIGURES = {
    "linear": "Ridgeless least squares on Gaussian features: empirical risk, exact finite-n risk and the asymptotic curve against p/n",
    "rff": "Random Fourier features on 300 digits: test squared loss and classification error against the number of features N",
    "ridge": "Ridge at a few strengths on the linear model: the interpolation peak shrinks as λ grows and vanishes at the tuned λ",
}


# ----------------------------------------------------------------------------------------------
# Linear model: exact and asymptotic risk
# ----------------------------------------------------------------------------------------------


def exact_risk(p: np.ndarray, n: int, sigma: float, r: float) -> np.ndarray:
    """E‖β̂ − β‖² of min-norm least squares with x ~ N(0, I_p), finite n (inf for |p − n| ≤ 1).

    p ≤ n − 2: only variance, σ² tr E[(XᵀX)⁻¹] = σ² p / (n − p − 1) (inverse-Wishart mean).
    p ≥ n + 2: bias r² (1 − n/p) (the part of β outside the row space of X, by rotational
    invariance) plus variance σ² tr E[(XXᵀ)⁻¹] = σ² n / (p − n − 1).
    """
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.inf)
    under = p <= n - 2
    over = p >= n + 2
    out[under] = sigma**2 * p[under] / (n - p[under] - 1)
    out[over] = r**2 * (1 - n / p[over]) + sigma**2 * n / (p[over] - n - 1)
    return out


def asymptotic_risk(gamma: np.ndarray, sigma: float, r: float) -> np.ndarray:
    """Hastie et al. (2019), Thm 1: the limit of the risk as n, p → ∞ with p/n → γ."""
    gamma = np.asarray(gamma, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gamma < 1, sigma**2 * gamma / (1 - gamma), r**2 * (1 - 1 / gamma) + sigma**2 / (gamma - 1))


def p_grid(n: int, gamma_max: float, num_p: int) -> list[int]:
    """Log-spaced p from about n/20 to gamma_max·n, densified around n, without n − 1, n, n + 1."""
    ps = set(np.unique(np.round(np.geomspace(max(2, n // 20), gamma_max * n, num_p))).astype(int).tolist())
    # Points close to the peak, where the risk changes fastest.
    ps |= {n + d for d in (-10, -5, -2, 2, 5, 10) if n + d >= 2}
    return sorted(p for p in ps if abs(p - n) >= 2)


def linear_risks(cfg: Config, ps: list[int], lambdas: list[float], gen: torch.Generator) -> dict[str, np.ndarray]:
    """Risk ‖β̂_λ − β‖² of every trial, every p and every ridge strength (λ = 0 is min-norm).

    One eigendecomposition of the smaller Gram matrix per draw gives every λ at once:
    p ≤ n:  β̂ = V diag(1 / (s² + nλ)) Vᵀ Xᵀy        with XᵀX = V diag(s²) Vᵀ;
    p > n:  β̂ = Xᵀ U diag(1 / (s² + nλ)) Uᵀ y       with XXᵀ = U diag(s²) Uᵀ.
    At λ = 0 both are the pseudo-inverse solution X⁺y, the minimum-norm least-squares fit.
    The tuned strength λ*(p) = σ² p / (n r²) is the Bayes-optimal one for an isotropic prior of
    the same norm and is appended as a last column.
    """
    n, T = cfg.n, cfg.trials
    risks = np.zeros((len(ps), len(lambdas) + 1, T))  # (P, L+1, T)
    for i, p in enumerate(ps):
        lam = torch.tensor(lambdas + [cfg.sigma**2 * p / (n * cfg.r**2)], dtype=torch.float64)  # (L+1,)
        shrink = lambda s2: 1.0 / (s2[:, None, :] + n * lam[None, :, None])  # (t, L+1, k)
        for start in range(0, T, cfg.chunk):
            t = min(cfg.chunk, T - start)
            # Sampled in float32 (three times faster), solved in float64 (the peak is ill-conditioned).
            X = torch.randn(t, n, p, generator=gen).double()  # (t, n, p)
            beta = torch.randn(t, p, generator=gen).double()
            beta = cfg.r * beta / beta.norm(dim=1, keepdim=True)  # uniform on the sphere of radius r
            y = (X @ beta[:, :, None])[..., 0] + cfg.sigma * torch.randn(t, n, generator=gen).double()  # (t, n)
            if p <= n:
                s2, V = torch.linalg.eigh(X.transpose(1, 2) @ X)  # (t, p), (t, p, p)
                Vb = ((y[:, None, :] @ X) @ V)[:, 0]  # Vᵀ Xᵀ y, (t, p)
                bhat = (shrink(s2) * Vb[:, None, :]) @ V.transpose(1, 2)  # (t, L+1, p)
            else:
                s2, U = torch.linalg.eigh(X @ X.transpose(1, 2))  # (t, n), (t, n, n)
                Uy = torch.einsum("tnk,tn->tk", U, y)  # (t, n)
                alpha = (shrink(s2) * Uy[:, None, :]) @ U.transpose(1, 2)  # dual coefficients, (t, L+1, n)
                bhat = alpha @ X  # (t, L+1, p)
            risks[i, :, start : start + t] = ((bhat - beta[:, None, :]) ** 2).sum(-1).T.numpy()
    return {"risk": risks}


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
# Figures and entry point
# ----------------------------------------------------------------------------------------------


def plain_log_axes(ax, x: bool = True, y: bool = True) -> None:
    """Label log axes as 0.1, 1, 10 in plain text and drop minor ticks (both are slow to draw)."""
    from matplotlib.ticker import FormatStrFormatter, NullLocator

    for axis, on in ((ax.xaxis, x), (ax.yaxis, y)):
        if on:
            axis.set_major_formatter(FormatStrFormatter("%g"))
            axis.set_minor_locator(NullLocator())


def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    # Everything here is small dense linear algebra in float64: the CPU is the right device.
    gen = torch.Generator().manual_seed(cfg.seed)
    n = cfg.n
    lambdas = [float(s) for s in cfg.ridge_lambdas.split(",")]
    ps = p_grid(n, cfg.gamma_max, cfg.num_p)
    # The min-norm fit (λ = 0) is always solved, whether or not the ridge figure lists it.
    solved = lambdas if 0.0 in lambdas else [0.0] + lambdas
    all_risks = linear_risks(cfg, ps, solved, gen)["risk"]  # (P, L+1, T); last column: tuned λ*
    ridgeless = all_risks[:, solved.index(0.0)]  # (P, T)
    risks = all_risks[:, [solved.index(lam) for lam in lambdas] + [len(solved)]]  # (P, L+1, T)
    p_arr = np.array(ps, dtype=float)
    risk_mean, risk_median = ridgeless.mean(1), np.median(ridgeless, axis=1)
    theory = exact_risk(p_arr, n, cfg.sigma, cfg.r)
    gamma_fine = np.geomspace(p_arr[0] / n, cfg.gamma_max, 600)
    gamma_fine = gamma_fine[np.abs(gamma_fine - 1) > 1e-3]
    asym_fine = asymptotic_risk(gamma_fine, cfg.sigma, cfg.r)
    p_fine = np.arange(ps[0], int(cfg.gamma_max * n) + 1)
    p_fine = p_fine[np.abs(p_fine - n) >= 2]
    exact_fine = exact_risk(p_fine, n, cfg.sigma, cfg.r)

    ridge_mean = risks.mean(2)  # (P, L+1); last column: tuned λ*
    rff = rff_sweep(cfg, gen)
    Ns = rff["N"]
    mse_mean, err_mean = rff["mse"].mean(1), rff["err"].mean(1)

    def draw_linear(t):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7.2, 4.3))
        under = p_fine < n
        ax.plot(p_fine[under] / n, exact_fine[under], color=t.color(0), lw=1.6, label="exact finite-n risk")
        ax.plot(p_fine[~under] / n, exact_fine[~under], color=t.color(0), lw=1.6)
        g_under = gamma_fine < 1
        ax.plot(gamma_fine[g_under], asym_fine[g_under], color=t.muted, lw=1.2, ls="--", label="asymptotic (Hastie et al. Thm 1)")
        ax.plot(gamma_fine[~g_under], asym_fine[~g_under], color=t.muted, lw=1.2, ls="--")
        ax.plot(p_arr / n, risk_mean, "o", color=t.color(1), ms=4.5, label=f"empirical mean of {cfg.trials} draws")
        ax.plot(p_arr / n, risk_median, "s", mfc="none", color=t.color(2), ms=4.5, label="empirical median")
        ax.axhline(cfg.r**2, color=t.fg, lw=0.8, ls=":", label=f"null predictor β̂ = 0 (risk r² = {cfg.r**2:g})")
        ax.axvline(1.0, color=t.muted, lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        plain_log_axes(ax)
        ax.set_ylim(max(1e-3, 0.3 * min(risk_median.min(), risk_mean.min())), 2e2)
        ax.text(1.03, 1.2e2, "p = n", color=t.muted, fontsize=8.5)
        ax.set_xlabel(f"features per sample  γ = p / n   (n = {n})")
        ax.set_ylabel("test risk  ‖β̂ − β‖²  (excess squared error)")
        ax.set_title("Min-norm least squares: the risk explodes at p = n and descends again for p > n")
        ax.legend(fontsize=8.5, loc="upper left")
        return fig

    def draw_rff(t):
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.9))
        under = Ns < cfg.rff_n
        for ax, vals, allv, label, scale in (
            (axes[0], mse_mean, rff["mse"], "test squared loss (sum over 10 outputs)", "log"),
            (axes[1], 100 * err_mean, 100 * rff["err"], "test classification error (%)", "linear"),
        ):
            for d in range(allv.shape[1]):
                ax.plot(Ns, allv[:, d], color=t.muted, lw=0.6, alpha=0.6, label="single feature draw" if d == 0 else None)
            ax.plot(Ns, vals, "o-", color=t.color(0), ms=4, lw=1.6, label=f"mean of {cfg.rff_draws} draws")
            best = vals[under].min()
            ax.axhline(best, color=t.color(1), lw=1, ls="--", label="best with N < n")
            ax.axvline(cfg.rff_n, color=t.muted, lw=0.8)
            ax.text(cfg.rff_n * 0.93, 0.97, "N = n", color=t.muted, fontsize=8.5, ha="right", va="top",
                    transform=ax.get_xaxis_transform())
            ax.set_xscale("log")
            ax.set_yscale(scale)
            plain_log_axes(ax, y=scale == "log")
            ax.set_xlabel(f"random Fourier features N   (n = {cfg.rff_n} training digits)")
            ax.set_ylabel(label)
        axes[1].set_ylim(0, min(100, 1.15 * 100 * err_mean.max()))
        axes[0].legend(fontsize=8.5, loc="center right")
        fig.suptitle("Random features on digits: a peak at N = n, and far more features beat the best small model", fontsize=11)
        fig.tight_layout()
        return fig

    def draw_ridge(t):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7.2, 4.3))
        for j, lam in enumerate(lambdas):
            label = f"λ = {lam:g}" + ("  (min-norm)" if lam == 0 else "")
            ax.plot(p_arr / n, ridge_mean[:, j], "o-", ms=3.5, lw=1.4, color=t.color(j), label=label)
        ax.plot(p_arr / n, ridge_mean[:, -1], "-", lw=2.4, color=t.fg, label="tuned λ* = σ²p / (n r²)")
        ax.axvline(1.0, color=t.muted, lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        plain_log_axes(ax)
        ax.set_ylim(max(1e-3, 0.5 * ridge_mean.min()), 2e2)
        ax.text(1.03, 1.2e2, "p = n", color=t.muted, fontsize=8.5)
        ax.set_xlabel(f"features per sample  γ = p / n   (n = {n})")
        ax.set_ylabel(f"mean test risk  ‖β̂ − β‖²  ({cfg.trials} draws)")
        ax.set_title("Ridge: a larger penalty flattens the peak; the tuned one removes it")
        ax.legend(fontsize=8.5, loc="upper left")
        return fig

    save_figure(draw_linear, out_dir, "linear")
    save_figure(draw_rff, out_dir, "rff")
    save_figure(draw_ridge, out_dir, "ridge")

    data = {
        "linear": {
            "n": n,
            "sigma": cfg.sigma,
            "r": cfg.r,
            "trials": cfg.trials,
            "p": ps,
            "risk_mean": risk_mean,
            "risk_median": risk_median,
            "theory": theory,
            "theory_asymptotic": asymptotic_risk(p_arr / n, cfg.sigma, cfg.r),
        },
        "rff": {
            "n": cfg.rff_n,
            "n_test": rff["n_test"],
            "N": Ns,
            "test_mse": mse_mean,
            "test_error": err_mean,
            "peak_N": int(Ns[np.argmax(mse_mean)]),
            "best_error_below_n": float(err_mean[Ns < cfg.rff_n].min()),
            "best_mse_below_n": float(mse_mean[Ns < cfg.rff_n].min()),
        },
        "ridge": {
            "lambdas": lambdas,
            "p": ps,
            "risk": ridge_mean[:, :-1].T,  # one list per λ
            "risk_tuned": ridge_mean[:, -1],
            "peak": ridge_mean[:, :-1].max(0),
        },
    }
    write_data(out_dir, data)
    return data


if __name__ == "__main__":
    demo_main(Config, run)
