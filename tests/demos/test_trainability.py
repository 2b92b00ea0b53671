"""Trainability: recurrence has a span that grows with n, attention has more work but a tiny span."""
from __future__ import annotations

import json
import math

import torch

from demos.trainability import FIGURES, Config, run

torch.set_num_threads(1)

SMALL = Config(d=16, n_head=2, log2_n_min=3, log2_n_max=8, batch=2, warmup=1, repeats=2)


def test_trainability(tmp_path):
    run(SMALL, tmp_path, "cpu")
    for fig in FIGURES:
        for theme in ("light", "dark"):
            assert (tmp_path / f"{fig}-{theme}.svg").exists(), (fig, theme)
    data = json.loads((tmp_path / "data.json").read_text())
    assert {"n", "span", "work", "measured_ms", "device", "implied_time", "sequential_ops"} <= data.keys()
    n, d = data["n"], SMALL.d
    assert n == [2**k for k in range(SMALL.log2_n_min, SMALL.log2_n_max + 1)]
    span, work = data["span"], data["work"]

    # Vaswani's count of sequential operations: n for the recurrence, a constant for attention.
    assert data["sequential_ops"]["rnn"] == n
    assert len(set(data["sequential_ops"]["attention"])) == 1
    # Span with fan-in-2 operations: the recurrence's grows linearly in n (a constant slope per
    # token), attention's only by the 3 reduction trees of depth log2 n (+3 per doubling).
    slopes = [(span["rnn"][i + 1] - span["rnn"][i]) / (n[i + 1] - n[i]) for i in range(len(n) - 1)]
    assert all(math.isclose(s, math.log2(d) + 7) for s in slopes), slopes
    assert all(span["attention"][i + 1] - span["attention"][i] == 3 for i in range(len(n) - 1))
    assert span["attention"][-1] < span["rnn"][0]  # even the shortest recurrence is deeper

    # Work: attention/recurrence = (8d² + 4nd + 5n) / (16d² + 9d), which grows like n/(4d).
    ratio = [a / r for a, r in zip(work["attention"], work["rnn"])]
    for k, nk in enumerate(n):
        assert math.isclose(ratio[k], (8 * d * d + 4 * nk * d + 5 * nk) / (16 * d * d + 9 * d), rel_tol=1e-9)
    assert all(b > a for a, b in zip(ratio, ratio[1:]))
    assert 1.6 < ratio[-1] / ratio[-2] < 2.0  # ∝ n once n >> d
    assert all(r < 1 for r, nk in zip(ratio, n) if nk <= d) and all(r > 1 for r, nk in zip(ratio, n) if nk >= 4 * d)

    # Brent's bound: on 2 units time is work, so the recurrence wins at long sequences; on 10,000
    # units the recurrence is stuck at its span and attention wins there.
    small, large = data["implied_time"][f"P={SMALL.p_small}"], data["implied_time"][f"P={SMALL.p_large}"]
    assert n[-1] >= 4 * d
    assert small["rnn"][-1] < small["attention"][-1]
    assert large["attention"][-1] < large["rnn"][-1]
    assert all(a < r for a, r in zip(large["attention"], large["rnn"]))
    sp = data["speedup_small_to_large_p"]
    assert all(a > 1.5 * r for a, r in zip(sp["attention"], sp["rnn"]))
    assert data["crossover_n"][f"P={SMALL.p_large}"] > n[-1]

    # The measurement ran on the given device and produced real times (which one is faster is not
    # asserted: on one CPU thread either can be).
    assert data["device"].startswith("cpu")
    for key in ("rnn", "attention"):
        ms = data["measured_ms"][key]
        assert len(ms) == len(n) and all(math.isfinite(t) and t > 0 for t in ms)
