"""The circuits demo, run small: the MLP fits (a + b) mod p first, generalises much later, and its
neurons' input weights become single-frequency sinusoids, clipped flat."""
from __future__ import annotations

import json

import torch

from demos._common import failed_claims
from demos.circuits import FIGURES, Config, phenomenon, run

torch.set_num_threads(1)


def test_circuits_groks_and_turns_periodic(tmp_path):
    # A larger training share than the default (0.45) groks in fewer steps, at the same modulus
    # (here: fit at step ~50, 50% test accuracy at step ~320, 99% at step ~1000).
    cfg = Config(train_frac=0.5, steps=1100)
    run(cfg, tmp_path, "cpu")
    data = json.loads((tmp_path / "data.json").read_text())
    for name in FIGURES:
        assert (tmp_path / f"{name}-light.svg").exists()
        assert (tmp_path / f"{name}-dark.svg").exists()
    # Memorise first, generalise much later: at the fit step the unseen pairs are at chance, half of
    # them are right only ≥ 5× later, and 99% is reached within the run; the neurons turn periodic.
    assert not failed_claims(phenomenon(data)), failed_claims(phenomenon(data))
    fit, g50, g99 = data["fit_step"], data["grok_step_50"], data["grok_step"]
    assert fit < g50 < g99
    assert data["test_acc"][-1] >= 0.98 and data["train_acc"][-1] == 1.0
    # The trained weights are clipped sinusoids: far more of them sit at their flat level than the
    # ~15% a pure sinusoid puts within 5% of its peak value.
    assert data["weight_flat_share"] > 0.3
