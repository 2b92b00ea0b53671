"""double_descent at a small size: the min-norm risk follows the exact formula and peaks at p = n,
the misspecified model's best fit is overparameterized, random features peak at N = n, and ridge
shrinks the peak."""
from __future__ import annotations

import json

import numpy as np
import torch

from demos._common import failed_claims, narrow_problems, recording_fonts, wide_problems
from demos.double_descent import FIGURES, Config, misspecified_risk, phenomenon, run

torch.set_num_threads(1)

SMALL = Config(
    n=40,
    trials=80,
    gamma_max=4.0,
    num_p=8,
    chunk=80,
    ridge_lambdas="0,0.001,0.01,0.1",
    mis_d=160,
    rff_n=100,
    rff_max_ratio=10.0,
    rff_num_N=10,
    rff_draws=2,
)


def test_double_descent_small(tmp_path):
    with recording_fonts() as fonts:
        run(SMALL, tmp_path, "cpu")
    for name in FIGURES:
        assert (tmp_path / f"{name}-light.svg").is_file()
        assert (tmp_path / f"{name}-dark.svg").is_file()
    # Every figure has its narrow variant for a phone: ≤ 268 pt wide, no text under 8.25 pt.
    assert not narrow_problems(tmp_path, FIGURES, fonts), narrow_problems(tmp_path, FIGURES, fonts)
    # And its wide variant for a laptop: every text at least 11 CSS px in the 688 px column.
    assert not wide_problems(tmp_path, FIGURES, fonts), wide_problems(tmp_path, FIGURES, fonts)
    data = json.loads((tmp_path / "data.json").read_text())
    # The mean follows the exact risk away from the peak, the median peaks next to p = n and falls
    # again; the misspecified model's best fit has p > n; random features peak at N ≈ n and many
    # features beat every N < n; ridge lowers the peak and the tuned ridge has none.
    assert not failed_claims(phenomenon(data)), failed_claims(phenomenon(data))

    # No mean is reported where the risk has infinite variance (|p − n| ≤ 3); medians everywhere.
    lin, mis = data["linear"], data["misspecified"]
    n, p = lin["n"], np.array(lin["p"])
    near = np.abs(p - n) <= 3
    assert near.any() and all(lin["risk_mean"][i] is None for i in np.flatnonzero(near))
    assert all(v is not None for v in lin["risk_median"])
    assert all(lin["risk_mean"][i] is not None for i in np.flatnonzero(~near))
    # Misspecified: the overparameterized minimum is below the best underparameterized risk, as the
    # exact formula says, and the measurement agrees with the formula away from the peak.
    theory = np.array(mis["theory"], dtype=float)
    assert theory[p > n].min() < theory[p < n].min()
    away = np.abs(p - n) >= 0.25 * n
    ratio = np.array(mis["risk_mean"], dtype=float)[away] / theory[away]
    assert np.all(np.abs(ratio - 1) < 0.25), ratio


def test_double_descent_title_and_ridge_shape_follow_the_data(tmp_path):
    # σ = 1 ≥ r: the exact risk past n only falls, so there is no interior minimum, and the figure's
    # title must not claim one; at σ = 0.5 the minimum is at p = 2n + 2.
    from dataclasses import replace

    from demos import double_descent as dd

    cfg = replace(SMALL, sigma=1.0, trials=20, rff_num_N=4, rff_n=60)
    run(cfg, tmp_path, "cpu")
    data = json.loads((tmp_path / "data.json").read_text())
    past = data["linear"]["theory_past_n"]
    assert past["interior_min"] is False and past["min_p"] is None and past["min_gamma"] is None
    assert past["falls_throughout"] and past["risk_first"] > past["risk_last"] > cfg.r**2
    title = dd.linear_title(data["linear"])
    assert "minimum" not in title and "keeps falling" in title, title
    n = cfg.n
    at_half = dd.linear_title({**data["linear"], "sigma": 0.5, "theory_past_n": {
        **past, "interior_min": True, "min_p": 2 * n + 2, "min_gamma": (2 * n + 2) / n, "min_risk": 0.7}})
    assert "minimum near γ = 2.0" in at_half, at_half

    ps = np.array([120, 150, 202, 300, 500])
    fine = np.arange(102, 501)
    past = dd.past_n_summary(fine, dd.exact_risk(fine, 100, 0.5, 1.0), list(ps), dd.exact_risk(ps, 100, 0.5, 1.0), 100)
    assert past["interior_min"] and past["min_p"] == 202 and past["p_first"] == 120 and past["p_last"] == 500

    # Ridge: a maximum at the largest p is no peak; the tuned curve's dips are recorded.
    ridge = data["ridge"]
    compared = [p for p in ridge["p"] if abs(p - n) >= dd.FINITE_VARIANCE_GAP]
    for p_max, interior in zip(ridge["max_p"], ridge["max_is_interior"]):
        assert interior == (compared[0] < p_max < compared[-1])
    assert [v is not None for v in ridge["peak_interior"]] == ridge["max_is_interior"]
    tuned = np.array(ridge["risk_tuned"])
    falls = np.maximum(0, (tuned[:-1] - tuned[1:]) / tuned[:-1])
    assert np.isclose(ridge["tuned_largest_dip"], falls.max())


def test_misspecified_risk_reduces_to_the_well_specified_one():
    p = np.array([5.0, 20.0, 60.0, 120.0])
    well = misspecified_risk(p, 40, 0.5, 1.0, d=None)
    assert np.allclose(misspecified_risk(p, 40, 0.5, 1.0, d=5), np.where(p >= 5, well, np.nan), equal_nan=True)
    # With d = 5 ≤ p every feature that matters is seen: only the p − d noise features differ.
