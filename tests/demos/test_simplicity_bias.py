"""simplicity_bias at a small size: an MLP learns low frequencies first, and the kernel task whose
power sits in the top eigenmodes (digits 0/1) has the lower learning curve, as the theory predicts."""
from __future__ import annotations

import json

import numpy as np
import torch

from demos.simplicity_bias import FIGURES, Config, run

torch.set_num_threads(1)

# A constant learning rate at this short length, so that all four frequencies are learned in time.
SMALL = Config(freqs="1,3,5,7", steps=800, seeds=2, lr_final=5e-3, p_max=100, num_p=6, trials=40)


def test_simplicity_bias_small(tmp_path):
    run(SMALL, tmp_path, "cpu")
    for name in FIGURES:
        assert (tmp_path / f"{name}-light.svg").is_file()
        assert (tmp_path / f"{name}-dark.svg").is_file()
    data = json.loads((tmp_path / "data.json").read_text())
    spec, align = data["spectral"], data["alignment"]
    assert {"k", "learned_at"} <= spec.keys()
    assert {"rho", "C", "p", "Eg_empirical", "Eg_theory"} <= align.keys()
    for key in ("C", "Eg_empirical", "Eg_theory"):
        assert set(align[key]) == {"0/1", "8/9"}

    # Spectral bias: every frequency is learned, and later for higher frequencies.
    ks, learned = spec["k"], spec["learned_at"]
    assert ks == sorted(ks)
    assert all(s is not None for s in learned), learned
    assert all(a <= b for a, b in zip(learned, learned[1:])) and learned[0] < learned[-1], learned
    assert learned[-1] >= 3 * max(learned[0], 1), learned

    # Task-model alignment: 0/1 puts more of its power into the top kernel modes ...
    c01, c89 = np.array(align["C"]["0/1"]), np.array(align["C"]["8/9"])
    assert np.all(c01[:10] >= c89[:10]), (c01[:10], c89[:10])
    assert c01[4] > c89[4] + 0.05
    # ... and is learned from fewer samples, at every size and clearly so at the larger ones.
    e01, e89 = np.array(align["Eg_empirical"]["0/1"]), np.array(align["Eg_empirical"]["8/9"])
    assert np.all(e01 < e89), (e01, e89)
    assert e01[-1] < 0.5 * e89[-1]
    # Learning curves fall with p, and the theory (Canatar et al. Eq. 4) tracks the experiment.
    assert e01[-1] < 0.2 * e01[0] and e89[-1] < 0.2 * e89[0]
    for task in ("0/1", "8/9"):
        ratio = np.array(align["Eg_empirical"][task]) / np.array(align["Eg_theory"][task])
        assert np.all((ratio > 0.5) & (ratio < 2.5)), (task, ratio)
