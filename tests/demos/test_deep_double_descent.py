"""deep_double_descent at a CPU size: test error peaks next to the width that first fits the noisy labels,
and falls again for wider networks. (Its default size needs a GPU.)"""
from __future__ import annotations

import json

import torch

from demos._common import failed_claims, narrow_problems, recording_fonts, save_figure, wide_problems
from demos.deep_double_descent import FIGURES, Config, draw_model_wise, parameters_of, phenomenon, run

torch.set_num_threads(1)

SMALL = Config(n_train=300, n_test=1000, image=8, classes=4, widths="1,2,3,4,6,8", steps=500, batch=64, teacher_width=4)


def test_model_wise_double_descent_at_a_cpu_size(tmp_path):
    with recording_fonts() as fonts:
        data = run(SMALL, tmp_path, "cpu")
    for name in FIGURES:
        assert (tmp_path / f"{name}-light.svg").stat().st_size > 0 and (tmp_path / f"{name}-dark.svg").stat().st_size > 0
    # Every figure has its narrow variant for a phone: ≤ 268 pt wide, no text under 8.25 pt.
    assert not narrow_problems(tmp_path, FIGURES, fonts), narrow_problems(tmp_path, FIGURES, fonts)
    # And its wide variant for a laptop: every text at least 11 CSS px in the 688 px column.
    assert not wide_problems(tmp_path, FIGURES, fonts), wide_problems(tmp_path, FIGURES, fonts)
    saved = json.loads((tmp_path / "data.json").read_text())["model_wise"]
    assert saved["widths"] == [1, 2, 3, 4, 6, 8]
    assert abs(saved["label_noise_measured"] - 0.2) < 0.06
    assert saved["parameters"] == [parameters_of(k, 4) for k in saved["widths"]]
    assert failed_claims(phenomenon(data)) == [], phenomenon(data)


def test_model_wise_figure_at_the_default_widths(tmp_path):
    # The default run needs a GPU: its figure is drawn here from made-up numbers at the default
    # widths (16 of them, 1 to 32), in both layouts.
    widths = [int(k) for k in Config().widths.split(",")]
    test = [0.5 + 0.3 * min(k, 8) / 8 - 0.2 * max(0, k - 8) / 24 for k in widths]
    train = [max(0.0, 0.4 - 0.05 * k) for k in widths]
    data = {"widths": widths, "test_error": test, "train_error": train, "interpolation_width": 8,
            "label_noise_measured": 0.2, "n_train": Config().n_train}
    with recording_fonts() as fonts:
        written = save_figure(lambda t, narrow=False: draw_model_wise(t, data, narrow=narrow), tmp_path, "model_wise", narrow=True)
    assert len(written) == 4
    assert not narrow_problems(tmp_path, ["model_wise"], fonts), narrow_problems(tmp_path, ["model_wise"], fonts)
    # And its wide variant for a laptop: every text at least 11 CSS px in the 688 px column.
    assert not wide_problems(tmp_path, ["model_wise"], fonts), wide_problems(tmp_path, ["model_wise"], fonts)
