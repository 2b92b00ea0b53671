"""Trainability: the recurrence's span grows with n, attention's and the parallel scan's with log n;
attention does more work; Brent's bound turns that into time on 2 and on 10,000 units."""
from __future__ import annotations

import json
import math

import torch

from demos._common import failed_claims
from demos.trainability import FIGURES, Config, linear_scan, phenomenon, run

torch.set_num_threads(1)

SMALL = Config(d=16, n_head=2, log2_n_min=3, log2_n_max=8, batch=2, warmup=1, repeats=2)


def test_trainability(tmp_path):
    run(SMALL, tmp_path, "cpu")
    for fig in FIGURES:
        for theme in ("light", "dark"):
            assert (tmp_path / f"{fig}-{theme}.svg").exists(), (fig, theme)
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


def test_linear_scan_matches_the_recurrence():
    gen = torch.Generator().manual_seed(0)
    a, u = torch.rand(2, 37, 5, generator=gen), torch.randn(2, 37, 5, generator=gen)  # n not a power of 2
    h, states = torch.zeros(2, 5), []
    for t in range(37):
        h = a[:, t] * h + u[:, t]
        states.append(h)
    assert torch.allclose(linear_scan(a, u), torch.stack(states, dim=1), atol=1e-5)
