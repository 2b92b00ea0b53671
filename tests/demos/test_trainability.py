"""Trainability: the recurrence's span grows with n, attention's and the parallel scan's with log n;
attention does more work; Brent's bound turns that into time on 2 and on 10,000 units."""
from __future__ import annotations

import json
import math

import torch

from demos._common import failed_claims, narrow_problems, recording_fonts, wide_problems
from demos.trainability import FIGURES, Config, linear_scan, phenomenon, run

torch.set_num_threads(1)

SMALL = Config(d=16, n_head=2, log2_n_min=3, log2_n_max=8, batch=2, warmup=1, repeats=2)


def test_trainability(tmp_path):
    with recording_fonts() as fonts:
        run(SMALL, tmp_path, "cpu")
    for fig in FIGURES:
        for theme in ("light", "dark"):
            assert (tmp_path / f"{fig}-{theme}.svg").exists(), (fig, theme)
    # Every figure has its narrow variant for a phone: ≤ 268 pt wide, no text under 8.25 pt.
    assert not narrow_problems(tmp_path, FIGURES, fonts), narrow_problems(tmp_path, FIGURES, fonts)
    # And its wide variant for a laptop: every text at least 11 CSS px in the 688 px column.
    assert not wide_problems(tmp_path, FIGURES, fonts), wide_problems(tmp_path, FIGURES, fonts)
    data = json.loads((tmp_path / "data.json").read_text())
    n, d = data["n"], SMALL.d
    assert n == [2**k for k in range(SMALL.log2_n_min, SMALL.log2_n_max + 1)]
    # The LSTM's span grows by log2 d + 7 per token, attention's by 3 and the scan's by 4 per doubling
    # of n; attention's work passes the LSTM's past n = 4d; attention gains more from 10,000 units;
    # the scan beats the LSTM on 10,000 units at every n.
    assert not failed_claims(phenomenon(data)), failed_claims(phenomenon(data))

    span, work = data["span"], data["work"]
    scan = span["linear_scan"]
    for i in range(len(n)):  # span.linear_scan is 4 log2 n + a constant in d
        assert math.isclose(scan[i] - 4 * math.log2(n[i]), scan[0] - 4 * math.log2(n[0]))
    assert scan[-1] < span["rnn"][0]  # even the shortest recurrence is deeper than the longest scan
    # Vaswani et al., Table 1: sequential operations and maximum path length.
    assert data["sequential_ops"]["rnn"] == n and len(set(data["sequential_ops"]["attention"])) == 1
    path = data["max_path_length"]
    assert path["rnn"] == n and set(path["attention"]) == {1}
    assert path["linear_scan"] == [2 * math.log2(k) for k in n]
    # Work: attention/recurrence = (8d² + 4nd + 5n) / (16d² + 9d), which grows like n/(4d).
    for k, nk in enumerate(n):
        ratio = work["attention"][k] / work["rnn"][k]
        assert math.isclose(ratio, (8 * d * d + 4 * nk * d + 5 * nk) / (16 * d * d + 9 * d), rel_tol=1e-9)
    # On 2 units time is work, so the recurrence wins at long sequences.
    small = data["implied_time"][f"P={SMALL.p_small}"]
    assert small["rnn"][-1] < small["attention"][-1]
    assert data["crossover_n"][f"P={SMALL.p_large}"] > n[-1]
    # Both of Brent's bounds: the lower one max(W/P, D) is never above the upper one W/P + D, and each
    # number read off the bounds is in the data for both.
    for p in (SMALL.p_small, SMALL.p_large):
        for name in data["span"]:
            low, up = data["implied_time_lower"][f"P={p}"][name], data["implied_time"][f"P={p}"][name]
            assert all(lo <= u <= 2 * lo for lo, u in zip(low, up))
    bounds = data["brent_bounds"]
    assert bounds["upper"]["crossover_n"] == data["crossover_n"][f"P={SMALL.p_large}"]
    assert bounds["lower"]["crossover_n"] == data["crossover_n_lower"][f"P={SMALL.p_large}"]
    for bound, key in (("upper", "speedup_small_to_large_p"), ("lower", "speedup_small_to_large_p_lower")):
        for name, sp in data[key].items():
            assert bounds[bound]["speedup"][name] == {"min": min(sp), "max": max(sp)}
    # How closely the measured time follows the work: the range covers every point.
    ratios = [r for v in data["measured_over_predicted"].values() for r in v]
    assert data["measured_over_predicted_range"] == {"min": min(ratios), "max": max(ratios)}
    assert all(r > 0 for r in ratios)


def test_trainability_bounds_at_the_default_width():
    # d = 64 on 10,000 units: the LSTM's speed-up from 2 units is about 1,700-fold by the upper bound
    # and about 2,500-fold by the lower; attention is faster up to n ≈ 620 (upper) or ≈ 370 (lower).
    from demos.trainability import crossover_n

    assert crossover_n(64, 10000) == 623 and crossover_n(64, 10000, bound="lower") == 374


def test_linear_scan_matches_the_recurrence():
    gen = torch.Generator().manual_seed(0)
    a, u = torch.rand(2, 37, 5, generator=gen), torch.randn(2, 37, 5, generator=gen)  # n not a power of 2
    h, states = torch.zeros(2, 5), []
    for t in range(37):
        h = a[:, t] * h + u[:, t]
        states.append(h)
    assert torch.allclose(linear_scan(a, u), torch.stack(states, dim=1), atol=1e-5)
