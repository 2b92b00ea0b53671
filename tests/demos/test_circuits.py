"""The circuits demo, run small: the MLP fits (a + b) mod p first, generalises much later, and its
neurons' input weights become single-frequency sinusoids, clipped flat."""
from __future__ import annotations

import json

import torch

from demos._common import failed_claims, narrow_problems, recording_fonts, wide_problems
from demos.circuits import FIGURES, Config, phenomenon, run

torch.set_num_threads(1)


def test_circuits_groks_and_turns_periodic(tmp_path):
    # The default settings, cut short once the unseen pairs are 95% right (on seed 0: fit at step
    # ~37, 50% test accuracy at step ~610, 95% at ~1160).
    cfg = Config(steps=1400)
    with recording_fonts() as fonts:
        run(cfg, tmp_path, "cpu")
    data = json.loads((tmp_path / "data.json").read_text())
    for name in FIGURES:
        assert (tmp_path / f"{name}-light.svg").exists()
        assert (tmp_path / f"{name}-dark.svg").exists()
    # Every figure has its narrow variant for a phone: ≤ 268 pt wide, no text under 8.25 pt.
    assert not narrow_problems(tmp_path, FIGURES, fonts), narrow_problems(tmp_path, FIGURES, fonts)
    # And its wide variant for a laptop: every text at least 11 CSS px in the 688 px column.
    assert not wide_problems(tmp_path, FIGURES, fonts), wide_problems(tmp_path, FIGURES, fonts)
    # Memorise first, generalise much later: at the fit step the unseen pairs are at chance, half of
    # them are right only ≥ 10× later, and 95% is reached within the run; the neurons turn periodic.
    assert not failed_claims(phenomenon(data)), failed_claims(phenomenon(data))
    fit, g50, g95 = data["fit_step"], data["grok_step_50"], data["grok_step_95"]
    assert fit < g50 < g95
    assert data["delay_ratio"] == g50 / fit >= 10
    assert data["test_acc_final"] == data["test_acc"][-1] >= 0.95 and data["train_acc"][-1] == 1.0
    # Accuracy is measured at every one of the first 100 steps, where the fit happens.
    assert data["steps"][:100] == list(range(100))
    # The trained weights are clipped sinusoids: far more of them sit at their flat level than the
    # ~15% a pure sinusoid puts within 5% of its peak value; the level is within AdamW's bound 1/λ.
    assert data["weight_flat_share"] > 0.3
    assert data["weight_flat_level"] <= data["weight_flat_bound"] == 1 / cfg.weight_decay


def test_grokking_settings_rule_reads_validation_pairs_only():
    # The tuning run's validation pairs are outside the training pairs, and it stops as soon as it
    # has what the rule needs.
    import dataclasses

    from bench.grokking_settings import VAL_FRAC, tuning_split, validation_run

    cfg = dataclasses.replace(Config(), seed=100, steps=300)
    tr, va = tuning_split(cfg, torch.Generator().manual_seed(cfg.seed))
    assert not set(tr.tolist()) & set(va.tolist())
    assert len(va) == round(VAL_FRAC * cfg.p**2) and len(tr) == round(cfg.train_frac * cfg.p**2)
    fit, val50, done = validation_run(cfg)
    assert fit is not None and fit < 100
    assert done is None  # 300 steps are far too few to generalise
