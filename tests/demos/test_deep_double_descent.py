"""deep_double_descent at a CPU size: test error peaks next to the width that first fits the noisy labels,
and falls again for wider networks. (Its default size needs a GPU.)"""
from __future__ import annotations

import json

import torch

from demos._common import failed_claims
from demos.deep_double_descent import FIGURES, Config, parameters_of, phenomenon, run

torch.set_num_threads(1)

SMALL = Config(n_train=300, n_test=1000, image=8, classes=4, widths="1,2,3,4,6,8", steps=500, batch=64, teacher_width=4)


def test_model_wise_double_descent_at_a_cpu_size(tmp_path):
    data = run(SMALL, tmp_path, "cpu")
    for name in FIGURES:
        assert (tmp_path / f"{name}-light.svg").stat().st_size > 0 and (tmp_path / f"{name}-dark.svg").stat().st_size > 0
    saved = json.loads((tmp_path / "data.json").read_text())["model_wise"]
    assert saved["widths"] == [1, 2, 3, 4, 6, 8]
    assert abs(saved["label_noise_measured"] - 0.2) < 0.06
    assert saved["parameters"] == [parameters_of(k, 4) for k in saved["widths"]]
    assert failed_claims(phenomenon(data)) == [], phenomenon(data)
