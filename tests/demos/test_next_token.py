"""The next-token demo, run small: addition generalises from enough pairs and is memorised from too few;
the character model, on a split without leaks, beats the Kneser-Ney trigram."""
from __future__ import annotations

import json

import numpy as np
import torch

from demos._common import failed_claims, narrow_problems, recording_fonts, wide_problems
from demos.next_token import FIGURES, Config, clean_split, kneser_ney_probs, phenomenon, run

torch.set_num_threads(1)

# Addition needs as many steps as by default (its jump comes after a plateau of ~150 steps) and the
# character model needs its default 600 steps to pass the trigram, so the savings are one sweep
# model instead of three, a shorter context (16 characters, in batches of 48: 3/4 of the default's
# characters per step), fewer measurements and a shorter validation text.
SMALL = Config(add_sweep="0.02", add_eval_every=100, add_eval_n=500, lm_context=16, lm_batch=48,
               lm_eval_every=400, lm_val_chars=4096, n_samples=1, sample_len=40)


def test_next_token_phenomena(tmp_path):
    with recording_fonts() as fonts:
        run(SMALL, tmp_path, "cpu")
    data = json.loads((tmp_path / "data.json").read_text())
    for name in FIGURES:
        assert (tmp_path / f"{name}-light.svg").exists()
        assert (tmp_path / f"{name}-dark.svg").exists()
    # Every figure has its narrow variant for a phone: ≤ 268 pt wide, no text under 8.25 pt.
    assert not narrow_problems(tmp_path, FIGURES, fonts), narrow_problems(tmp_path, FIGURES, fonts)
    # And its wide variant for a laptop: every text at least 11 CSS px in the 688 px column.
    assert not wide_problems(tmp_path, FIGURES, fonts), wide_problems(tmp_path, FIGURES, fonts)
    assert not failed_claims(phenomenon(data)), failed_claims(phenomenon(data))

    # A procedure, not a table: the held-out curve follows the training curve from chance upwards.
    add = data["addition"]
    assert add["n_train"] + add["n_heldout"] == 10_000
    assert add["heldout_acc"][0] < 0.05
    gaps = [abs(a - b) for a, b in zip(add["train_acc"], add["heldout_acc"])]
    assert max(gaps) < 0.15  # a lookup table would show a gap near 1
    sweep = data["addition_sweep"]
    assert sweep["train_fraction"] == sorted(sweep["train_fraction"]) == [0.02, 0.25]

    # No leak: not one validation window of 16 characters is in the training text it was trained on.
    lm = data["charlm"]
    assert lm["val_overlap_16"] == 0 and lm["val_overlap_16_before_cut"] > 0
    b = lm["baselines"]
    assert b["uniform"] > b["unigram"] > b["bigram"] > b["trigram"] > b["fivegram"]
    assert lm["val_loss"][0] > b["unigram"]  # it started near uniform
    assert lm["final_val_loss"] < b["trigram"] - 0.05


def test_kneser_ney_is_a_distribution():
    # For any history, the interpolated Kneser-Ney probabilities of the whole alphabet sum to one.
    split = clean_split(Config(lm_val_chars=1024))
    V = len(split["chars"])
    rng = np.random.default_rng(0)
    for order in (1, 3, 5):
        for start in rng.integers(0, len(split["val"]) - order, size=3):
            history = np.repeat(split["val"][start : start + order - 1][None], V, axis=0)  # (V, order - 1)
            p = kneser_ney_probs(split["train"], split["clean_starts"], order, V, history, np.arange(V))
            assert np.all(p > 0) and abs(p.sum() - 1) < 1e-9, (order, p.sum())
