"""The next-token demo, run small: addition generalises to unseen pairs; the character model beats n-grams."""
from __future__ import annotations

import json

import torch

from demos.next_token import FIGURES, Config, run

torch.set_num_threads(1)


def test_next_token_learns_addition_and_text(tmp_path):
    # Addition needs about as many steps as by default (its jump comes after a plateau of ~150 steps),
    # so the savings are in the evaluation and the character model.
    cfg = Config(add_steps=300, add_eval_every=50, add_eval_n=300,
                 lm_steps=200, lm_eval_every=50, lm_val_chars=4096, n_samples=1, sample_len=40)
    run(cfg, tmp_path, "cpu")
    data = json.loads((tmp_path / "data.json").read_text())

    for name in FIGURES:
        assert (tmp_path / f"{name}-light.svg").exists()
        assert (tmp_path / f"{name}-dark.svg").exists()
    add, lm = data["addition"], data["charlm"]
    for key in ("steps", "train_acc", "heldout_acc", "n_heldout"):
        assert key in add
    for key in ("steps", "val_loss", "baselines", "samples"):
        assert key in lm
    assert set(lm["baselines"]) >= {"uniform", "unigram", "bigram"}

    # A procedure, not a table: pairs never trained on are solved (chance is 1 in 1000) about as
    # often as the trained ones, and the curves rise together.
    assert add["n_heldout"] == 2500
    assert add["final_heldout_acc"] >= 0.9
    assert add["final_heldout_acc"] >= add["final_train_acc"] - 0.03
    assert add["heldout_acc"][0] < 0.05  # it started at chance
    gaps = [abs(a - b) for a, b in zip(add["train_acc"], add["heldout_acc"])]
    assert max(gaps) < 0.15  # a lookup table would show a gap near 1

    # The character model goes below the unigram and the bigram baselines (nats per character).
    b = lm["baselines"]
    assert b["uniform"] > b["unigram"] > b["bigram"]
    assert lm["val_loss"][0] > b["unigram"]  # it started near uniform
    assert lm["val_loss"][-1] < b["bigram"] - 0.1
    assert len(lm["samples"]) == 1 and len(lm["samples"][0]["text"]) > 40
