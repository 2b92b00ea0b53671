"""The circuits demo, run small: the MLP fits (a + b) mod p first, generalises much later, and its
neurons' input weights become single-frequency sinusoids."""
from __future__ import annotations

import json

import torch

from demos.circuits import FIGURES, Config, run

torch.set_num_threads(1)


def test_circuits_groks_and_turns_periodic(tmp_path):
    # A larger training fraction groks in fewer steps than the default (0.5), at the same modulus
    # (here: fit at step ~50, 99% test accuracy at step ~400).
    cfg = Config(train_frac=0.7, steps=500, eval_every=10)
    run(cfg, tmp_path, "cpu")
    data = json.loads((tmp_path / "data.json").read_text())

    for name in FIGURES:
        assert (tmp_path / f"{name}-light.svg").exists()
        assert (tmp_path / f"{name}-dark.svg").exists()
    for key in ("steps", "train_acc", "test_acc", "fit_step", "grok_step", "top_freq_share"):
        assert key in data
    assert set(data["top_freq_share"]) == {"init", "final"}

    fit, grok = data["fit_step"], data["grok_step"]
    assert fit is not None and grok is not None
    # Memorise first, generalise much later: the unseen pairs stay near chance when the training
    # pairs are already all right, and reaching 99% on them takes several times as long again.
    assert grok >= 4 * fit
    test_at_fit = data["test_acc"][data["steps"].index(fit)]
    assert test_at_fit < 0.1
    assert data["test_acc"][-1] >= 0.98 and data["train_acc"][-1] == 1.0

    # Periodic neurons: the median share of weight power in one frequency rises from what random
    # weights give (about 3 / number of frequencies) to most of the power.
    share = data["top_freq_share"]
    assert share["init"] < 0.2
    assert share["final"] > 0.7 and share["final"] > 4 * share["init"]
