"""Sim-to-real: the nominal policy breaks under mismatch, the probing randomised policy does not."""
from __future__ import annotations

import json
import math

import torch

from demos.sim_to_real import FIGURES, Config, run

torch.set_num_threads(1)

# Fewer Adam steps on smaller batches than the default: a few seconds.
SMALL = Config(iters=100, batch=64, n_targets=8)


def test_sim_to_real(tmp_path):
    run(SMALL, tmp_path, "cpu")
    for fig in FIGURES:
        for theme in ("light", "dark"):
            assert (tmp_path / f"{fig}-{theme}.svg").exists(), (fig, theme)
    data = json.loads((tmp_path / "data.json").read_text())
    assert {"real_params", "real_level", "level_factor", "level_inside_range", "policies", "all_stopped"} <= data.keys()
    pol = data["policies"]
    assert set(pol) == {"nominal", "randomized", "randomized_no_probe"}
    n_real = len(data["real_params"])
    for p in pol.values():
        assert {"sim_error", "real_errors", "by_level"} <= p.keys()
        assert len(p["real_errors"]) == n_real
    assert data["all_stopped"], "evaluation horizon too short: some puck was still moving"
    assert data["real_params"][0] == {"mass": SMALL.mass, "friction": SMALL.friction}

    # In the nominal world the nominal and the probing policy both hit the target.
    assert pol["nominal"]["sim_error"] < 0.05
    assert pol["randomized"]["sim_error"] < 0.05
    assert pol["nominal"]["real_errors"][0] == pol["nominal"]["sim_error"]

    # The nominal policy's error grows with the mismatch, level after level.
    mean = {p: v["by_level"]["mean"] for p, v in pol.items()}
    nom = mean["nominal"]
    assert all(a < b for a, b in zip(nom, nom[1:])), nom

    # At the largest mismatch inside the randomisation range, the probing policy beats the nominal
    # one by a clear factor and the randomised policy without a probe too, on average over the ring
    # of worlds and in its worst world.
    inside = data["level_inside_range"]
    edge = max(j for j, ok in enumerate(inside) if ok)
    assert math.isclose(data["level_factor"][edge], SMALL.rand_range, rel_tol=1e-5)
    assert mean["randomized"][edge] < nom[edge] / 5, (mean["randomized"][edge], nom[edge])
    assert mean["randomized"][edge] < mean["randomized_no_probe"][edge] / 5
    worst = {p: v["by_level"]["max"][edge] for p, v in pol.items()}
    assert worst["randomized"] < worst["nominal"] / 3
    assert worst["randomized"] < worst["randomized_no_probe"] / 3
    # Inside the range it stays accurate on average at every level.
    assert max(pol["randomized"]["by_level"]["mean"][: edge + 1]) < 0.1

    # Without a probe, randomisation buys a compromise: worse than nominal in the nominal world,
    # better than nominal on average at the edge of the range and in the worst world there.
    nop = mean["randomized_no_probe"]
    assert nop[0] > 3 * nom[0]
    assert nop[edge] < 0.8 * nom[edge]
    assert worst["randomized_no_probe"] < 0.8 * worst["nominal"]
