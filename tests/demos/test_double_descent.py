"""double_descent at a small size: the min-norm risk follows the exact formula, peaks at p = n / N = n,
and ridge shrinks the peak."""
from __future__ import annotations

import json

import numpy as np
import torch

from demos.double_descent import FIGURES, Config, run

torch.set_num_threads(1)

SMALL = Config(
    n=40,
    trials=80,
    gamma_max=4.0,
    num_p=8,
    chunk=80,
    ridge_lambdas="0,0.001,0.01,0.1",
    rff_n=100,
    rff_max_ratio=10.0,
    rff_num_N=10,
    rff_draws=2,
)


def test_double_descent_small(tmp_path):
    run(SMALL, tmp_path, "cpu")
    for name in FIGURES:
        assert (tmp_path / f"{name}-light.svg").is_file()
        assert (tmp_path / f"{name}-dark.svg").is_file()
    data = json.loads((tmp_path / "data.json").read_text())
    lin, rff, ridge = data["linear"], data["rff"], data["ridge"]
    assert {"n", "sigma", "r", "p", "risk_mean", "risk_median", "theory"} <= lin.keys()
    assert {"n", "N", "test_mse", "test_error"} <= rff.keys()
    assert {"lambdas", "p", "risk"} <= ridge.keys()

    # Linear model: empirical mean risk matches the exact finite-n expectation away from the peak.
    n = lin["n"]
    p = np.array(lin["p"], dtype=float)
    mean, theory = np.array(lin["risk_mean"]), np.array(lin["theory"], dtype=float)
    away = np.abs(p - n) >= 0.25 * n
    assert away.sum() >= 6 and (p[away] < n).any() and (p[away] > n).any()
    ratio = mean[away] / theory[away]
    assert np.all(np.abs(ratio - 1) < 0.25), dict(zip(p[away].tolist(), ratio.round(3).tolist()))
    # ... and the empirical risk is largest next to p = n on both sides.
    assert abs(p[np.argmax(mean)] - n) <= 0.1 * n
    # Second descent: past the peak the risk falls below its value at the first point beyond it.
    over = p > n
    assert mean[over][-1] < 0.5 * mean[over][0]

    # Random features on digits: the test-loss peak sits at N ≈ n, and many features beat N < n.
    N = np.array(rff["N"], dtype=float)
    mse, err = np.array(rff["test_mse"]), np.array(rff["test_error"])
    peak = N[np.argmax(mse)]
    assert rff["n"] / 1.3 <= peak <= 1.3 * rff["n"], peak
    below = N < rff["n"]
    assert err[-1] < err[below].min(), (err[-1], err[below].min())
    assert mse[-1] < mse[below].min(), (mse[-1], mse[below].min())
    assert mse.max() > 5 * mse[below].min()

    # Ridge: the height of the peak falls as λ grows (lambdas listed in increasing order).
    lambdas = ridge["lambdas"]
    assert lambdas == sorted(lambdas)
    peaks = [max(r) for r in ridge["risk"]]
    assert all(a > b for a, b in zip(peaks, peaks[1:])), peaks
