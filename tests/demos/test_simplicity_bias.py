"""simplicity_bias at a small size: every MLP learns low frequencies first, and the kernel task whose
power sits in the top eigenmodes (digits 0/1) has the lower learning curve, as the theory predicts."""
from __future__ import annotations

import json

import numpy as np
import torch

from demos._common import failed_claims
from demos.simplicity_bias import FIGURES, Config, learned_step, phenomenon, run

torch.set_num_threads(1)

# A constant learning rate at this short length, so that all four frequencies are learned in time.
SMALL = Config(freqs="1,3,5,7", steps=800, seeds=2, lr_final=5e-3, p_max=100, num_p=6, trials=40)


def test_simplicity_bias_small(tmp_path):
    run(SMALL, tmp_path, "cpu")
    for name in FIGURES:
        assert (tmp_path / f"{name}-light.svg").is_file()
        assert (tmp_path / f"{name}-dark.svg").is_file()
    data = json.loads((tmp_path / "data.json").read_text())
    # Each MLP learns the frequencies strictly in order; 0/1 has more power in the top kernel modes,
    # is learned from fewer samples at every size, and the theory stays within a factor 2.5.
    assert not failed_claims(phenomenon(data)), failed_claims(phenomenon(data))
    spec, align = data["spectral"], data["alignment"]
    assert len(spec["learned_at_per_model"]) == SMALL.seeds
    assert all(len(m) == 4 for m in spec["learned_at_per_model"])
    c01, c89 = np.array(align["C"]["0/1"]), np.array(align["C"]["8/9"])
    assert np.all(c01[:10] >= c89[:10]), (c01[:10], c89[:10])
    e01, e89 = np.array(align["Eg_empirical"]["0/1"]), np.array(align["Eg_empirical"]["8/9"])
    assert e01[-1] < 0.2 * e01[0] and e89[-1] < 0.2 * e89[0]  # both learning curves fall


def test_learned_step_reads_one_curve():
    # A dip below the threshold counts when it first happens, whatever the curve does later.
    curve = torch.tensor([1.0, 0.5, 0.05, 0.2, 0.04, 0.03])
    assert learned_step(curve, 0.1) == 2
    assert learned_step(torch.tensor([1.0, 0.5]), 0.1) is None
