"""Gradient descent finds a circuit: grokking of modular addition by a two-layer MLP.

A two-layer MLP reads ``a`` and ``b`` as one-hot vectors (equivalently: each operand picks a row of
a weight matrix, and the two rows are added), has one hidden ReLU layer and outputs logits over the
``p`` residues. It is trained on a fraction of all ``p²`` pairs to output ``(a + b) mod p``, with
full-batch AdamW and weight decay. Two things to notice:

* ``grokking``: train accuracy reaches 100% early, when the network has memorised the training
  pairs; test accuracy on the unseen pairs stays at chance long after and only climbs to ~100% more
  than an order of magnitude later (Power, Burda, Edwards, Babuschkin and Misra 2022, "Grokking:
  generalization beyond overfitting on small algorithmic datasets", arXiv 2201.02177, who report
  delays of orders of magnitude for transformers trained far longer). ``fit_step`` is the first
  measured step with train accuracy ≥ 0.99, ``grok_step_50``, ``grok_step_95`` and ``grok_step``
  the first with test accuracy ≥ 0.5, ≥ 0.95 and ≥ 0.99 (null if not within the run), and
  ``delay_ratio`` = grok_step_50 / fit_step (the figure marks the fit, 50% and 95%). Accuracy is
  measured at every step of the first 100 (the fit happens there) and every ``eval_every`` after.

  How the settings were chosen: by a stated rule on *validation* pairs of *tuning* seeds, never on
  the test pairs of the runs shown (``python -m bench.grokking_settings``, whose docstring has the
  details): tuning seeds 100-103, 10% of the pairs outside the training set held out as validation
  pairs; a grid of training share (0.30-0.45), weight decay (0.5, 1, 2) and learning rate (0.01-0.03)
  at 3,000 steps; of the settings whose validation accuracy reaches 95% by step 2,000 on every
  tuning seed, the one with the largest smallest delay (validation 50% step / fit step). It chose
  45% of the pairs, weight decay 0.5, learning rate 0.02 (smallest validation delay 16.8×; the
  earlier weight decay of 1 gave 9.5×). Less data lengthens the delay too (Power et al.; Liu,
  Michaud and Tegmark 2022, "Omnigrok", arXiv 2210.01117), but below 45% no setting of the grid
  reached 95% validation accuracy by step 2,000 on every tuning seed.
* ``periodicity``: what the generalising network computes. For each hidden neuron, its input
  weights as a function of the residue ``r`` (for operand ``a`` and for ``b``) are taken through a
  discrete Fourier transform over ``r``; the neuron's *top-frequency share* is the fraction of its
  non-constant weight power (``a`` and ``b`` together) that sits in its single strongest frequency
  ``k`` (``k`` and ``p - k`` counted as one). Random initial weights spread power over all
  ``(p - 1) / 2`` frequencies (median share about 0.1); after grokking every neuron has most of its
  power in one frequency (median about 0.9), the signature of the Fourier-feature algorithm that
  Nanda, Chan, Lieberum, Smith and Steinhardt found in a grokked transformer ("Progress measures for
  grokking via mechanistic interpretability", 2023, arXiv 2301.05217) and that Gromov (2023,
  "Grokking modular arithmetic", arXiv 2301.02679) wrote down in closed form for a two-layer MLP like
  this one: ``cos(2πk(a+b)/p)`` can be built from sinusoids of ``a`` and of ``b`` through the
  nonlinearity. The trained weights are not pure sinusoids, though: each is a sinusoid of the residue
  *clipped flat*, at about the same level for every neuron (``weight_flat_level``; the figure shows
  the weights as they are, with the flat levels marked). AdamW bounds that level: at a fixed point
  of its update ``λ·w = −m̂/√v̂``, so ``|w| ≤ 1/λ`` (``weight_flat_bound``), with equality when the
  gradient keeps its sign. With strong decay the flat level sits near that bound (seed 0: 0.48 at
  λ = 2, bound 0.5); with the default λ = 0.5 it is far below it (about 0.68, bound 2), about where
  it is at λ = 1 (0.66): there something other than the decay sets it, which this demo does not
  work out. The clipping puts a little power into the odd harmonics 3k, 5k (visible in the spectra).

Weight decay is what makes the late switch happen: the memorising solution fits the data first, but
the periodic solution fits it with much smaller weights, and decay keeps pulling towards it (Varma,
Shah, Kenton, Kramár and Kumar 2023, "Explaining grokking through circuit efficiency",
arXiv 2309.02390, make this efficiency argument precise). With ``weight_decay=0`` the same run fits
as fast and then stays near 0% test accuracy for all 3,000 steps.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from demos._common import (NARROW_FONT, AdamW, Claim, demo_main, fit_height, legend_below, narrow_subplots, plain_log_axis,
                           save_figure, wrap, write_data)


@dataclass
class Config:
    seed: int = 0  # seeds the train/test split and the initialisation
    p: int = 59  # modulus: the task is (a + b) mod p on all p² pairs
    train_frac: float = 0.45  # share of the p² pairs used for training (the rest is the test set)
    hidden: int = 128  # hidden ReLU neurons
    steps: int = 3000  # full-batch AdamW steps
    lr: float = 2e-2  # AdamW learning rate (chosen with weight_decay and train_frac by bench/grokking_settings.py)
    weight_decay: float = 0.5  # AdamW decoupled weight decay (it is what drives grokking)
    init_scale: float = 1.0  # multiplies the scale of the default (Kaiming-uniform) initialisation
    eval_every: int = 10  # steps between test-accuracy measurements
    n_examples: int = 3  # example neurons whose weights are drawn against the residue


FIGURES = {
    "grokking": "Train and test accuracy on (a + b) mod p against step (log scale): fit first, generalise much later",
    "periodicity": "Per-neuron share of input-weight power in its top Fourier frequency at init and after training, with example neurons",
}


# ----------------------------------------------------------------------------------------------
# The model, written out (tiny enough that every tensor is visible).
# ----------------------------------------------------------------------------------------------


def init_params(p: int, hidden: int, scale: float, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """PyTorch's default (Kaiming-uniform) initialisation of a Linear(2p, hidden) and Linear(hidden, p)."""
    def uniform(shape, fan_in):
        bound = scale / fan_in**0.5
        return ((torch.rand(shape, generator=gen) * 2 - 1) * bound).requires_grad_()

    return {
        "W_a": uniform((p, hidden), 2 * p),  # row r: what a one-hot "a = r" adds to the hidden layer
        "W_b": uniform((p, hidden), 2 * p),  # row r: the same for b
        "b_in": uniform((hidden,), 2 * p),
        "W_out": uniform((hidden, p), hidden),  # hidden -> logits over residues
        "b_out": uniform((p,), hidden),
    }


def forward(params: dict[str, torch.Tensor], a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(N,) operands -> (N, p) logits. Indexing a row equals multiplying by a one-hot vector."""
    h = F.relu(params["W_a"][a] + params["W_b"][b] + params["b_in"])  # (N, hidden)
    return h @ params["W_out"] + params["b_out"]  # (N, p)


# ----------------------------------------------------------------------------------------------
# The measurement of periodicity.
# ----------------------------------------------------------------------------------------------


def top_frequency_share(W_a: torch.Tensor, W_b: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron: share of non-constant input-weight power in its strongest frequency, and that k.

    ``rfft`` over the residue axis gives frequencies 0..(p-1)/2 for odd p; frequency k and p - k are
    the same real sinusoid, so the one-sided spectrum already counts them together. The constant
    (k = 0) term is dropped: a neuron whose weights are all equal is not periodic.
    """
    power = (torch.fft.rfft(W_a, dim=0).abs() ** 2 + torch.fft.rfft(W_b, dim=0).abs() ** 2)[1:]  # (K, hidden)
    share = power.max(dim=0).values / power.sum(dim=0)
    return share.numpy(), (power.argmax(dim=0) + 1).numpy()


# ----------------------------------------------------------------------------------------------
# Training.
# ----------------------------------------------------------------------------------------------


def first_at_least(steps: list[int], values: list[float], level: float) -> int | None:
    return next((s for s, v in zip(steps, values) if v >= level), None)


def all_pairs(p: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Operands a, b and labels (a + b) mod p of all p² pairs, each (p²,)."""
    a_all = torch.arange(p).repeat_interleave(p)  # (p²,): 0 0 0 ... 1 1 1 ...
    b_all = torch.arange(p).repeat(p)  # (p²,): 0 1 2 ... 0 1 2 ...
    return a_all, b_all, (a_all + b_all) % p


def measured_step(cfg: Config, step: int) -> bool:
    """Whether accuracy is measured after this many steps: every step of the first DENSE_STEPS (the
    fit happens there, and the x axis is logarithmic), then every eval_every steps, and the last."""
    return step < DENSE_STEPS or step % cfg.eval_every == 0 or step == cfg.steps


DENSE_STEPS = 100
DELAY = 10.0  # the claim: the unseen pairs are half right at least this many times later than the training pairs are fitted


def train(cfg: Config, a_tr: torch.Tensor, b_tr: torch.Tensor, y_tr: torch.Tensor, gen: torch.Generator,
          measure: Callable[[int, dict[str, torch.Tensor], torch.Tensor, torch.Tensor], bool | None]) -> dict[str, torch.Tensor]:
    """Full-batch AdamW on the training pairs; returns the parameters after ``cfg.steps`` steps.

    ``measure(step, params, train_logits, train_loss)`` is called (under no_grad) before the update
    of every step that ``measured_step`` names, and after the last; a true return stops training
    there (the tuning script stops once it has what it needs).
    """
    params = init_params(cfg.p, cfg.hidden, cfg.init_scale, gen)
    # betas (0.9, 0.98); decay on the weight matrices, not the biases.
    opt = AdamW(params.values(), cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
    for step in range(cfg.steps + 1):
        logits = forward(params, a_tr, b_tr)  # (n_train, p): the whole training set, every step
        loss = F.cross_entropy(logits, y_tr)
        if measured_step(cfg, step):
            with torch.no_grad():
                if measure(step, params, logits, loss):
                    break
        if step == cfg.steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    return params


def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    # A few million multiply-adds per step: a CPU with one thread is the intended device (`device` unused).
    p = cfg.p
    gen = torch.Generator().manual_seed(cfg.seed)
    a_all, b_all, y_all = all_pairs(p)
    perm = torch.randperm(p * p, generator=gen)
    n_train = int(round(cfg.train_frac * p * p))
    tr, te = perm[:n_train], perm[n_train:]
    a_tr, b_tr, y_tr = a_all[tr], b_all[tr], y_all[tr]
    a_te, b_te, y_te = a_all[te], b_all[te], y_all[te]

    steps, train_acc, test_acc, train_loss, share_median = [], [], [], [], []
    init = {}

    def measure(step, params, logits, loss) -> None:
        if step == 0:
            init["W_a"], init["W_b"] = params["W_a"].detach().clone(), params["W_b"].detach().clone()
        steps.append(step)
        train_loss.append(loss.item())
        train_acc.append((logits.argmax(-1) == y_tr).float().mean().item())
        test_acc.append((forward(params, a_te, b_te).argmax(-1) == y_te).float().mean().item())
        share, _ = top_frequency_share(params["W_a"].detach(), params["W_b"].detach())
        share_median.append(float(np.median(share)))

    params = train(cfg, a_tr, b_tr, y_tr, gen, measure)
    W_a_init = init["W_a"]  # (p, hidden)
    share_init, _ = top_frequency_share(W_a_init, init["W_b"])

    fit, g50 = first_at_least(steps, train_acc, 0.99), first_at_least(steps, test_acc, 0.5)
    W_a, W_b = params["W_a"].detach(), params["W_b"].detach()
    share_final, top_k = top_frequency_share(W_a, W_b)
    # The flat tops and bottoms of the trained weights. A neuron's flat level: the 75th percentile of
    # its |w| (the flat stretches hold more than a quarter of its weights); flat share: the weights
    # within 5% of ±level (a pure sinusoid sampled at p points puts about 15% there).
    W = torch.cat([W_a, W_b])  # (2p, hidden)
    level = torch.quantile(W.abs(), 0.75, dim=0)  # (hidden,)
    flat_share = float(((W.abs() - level).abs() <= 0.05 * level).float().mean())
    # Example neurons for the figure: the first neuron of each of the lowest top frequencies (a
    # sinusoid with few periods over the p residues is easiest to see); the histogram has them all.
    order = [int(np.flatnonzero(top_k == k)[0]) for k in np.unique(top_k)[: cfg.n_examples]]
    examples = [{"neuron": int(j), "k": int(top_k[j]), "share": float(share_final[j]),
                 "w_init": W_a_init[:, j].tolist(), "w_final": W_a[:, j].tolist()} for j in order]
    data = {
        "p": p,
        "n_train": n_train,
        "n_test": p * p - n_train,
        "steps": steps,
        "train_acc": train_acc,
        "test_acc": test_acc,
        "train_loss": train_loss,
        "share_median": share_median,
        "fit_step": fit,
        "grok_step_50": g50,
        "grok_step_95": first_at_least(steps, test_acc, 0.95),
        "grok_step": first_at_least(steps, test_acc, 0.99),
        "delay_ratio": g50 / fit if fit and g50 else None,  # grok_step_50 / fit_step
        "test_acc_final": test_acc[-1],
        "weight_flat_level": float(level.median()),
        "weight_flat_bound": 1 / cfg.weight_decay if cfg.weight_decay else None,  # AdamW's |w| ≤ 1/λ
        "weight_flat_share": flat_share,
        "weight_decay": cfg.weight_decay,
        "top_freq_share": {"init": float(np.median(share_init)), "final": float(np.median(share_final))},
        "share_init": share_init.tolist(),
        "share_final": share_final.tolist(),
        "top_freq": top_k.tolist(),
        "examples": examples,
    }
    save_figure(lambda t, narrow=False: draw_grokking(t, data, narrow=narrow), out_dir, "grokking", narrow=True)
    save_figure(lambda t, narrow=False: draw_periodicity(t, data, narrow=narrow), out_dir, "periodicity", narrow=True)
    write_data(out_dir, data)
    return data


# ----------------------------------------------------------------------------------------------
# Figures.
# ----------------------------------------------------------------------------------------------


def draw_grokking(theme, d: dict, narrow: bool = False):
    import matplotlib.pyplot as plt

    if narrow:
        fig, (ax,) = narrow_subplots((2.4,))
    else:
        fig, ax = plt.subplots(figsize=(7.2, 4.2))
    x = np.array(d["steps"]) + 1  # log axis: plot step s at s + 1 so that step 0 is shown
    ax.plot(x, d["train_acc"], color=theme.color(0), lw=2, label="train accuracy")
    ax.plot(x, d["test_acc"], color=theme.color(1), lw=2, label="test accuracy (unseen pairs)")
    ax.plot(x, d["share_median"], color=theme.color(2), lw=1.5, ls=":", label="median top-frequency share of neurons")
    # The 50% and 95% marks can be close on the log axis: their labels stand left and right of their lines.
    marks = (("fit_step", "train 99%", "--", "center"), ("grok_step_50", "test 50% ", ":", "right"),
             ("grok_step_95", " test 95%", "-.", "left"))
    ax.set_xscale("log")
    if not narrow:  # room right of the last step for a label standing right of its line there
        ax.set_xlim(right=x[-1] * 3)
    lo, hi = np.log(ax.get_xlim())
    for key, label, ls, ha in marks:
        if narrow:  # too little room for labels over the lines: the legend names them, reached or not (a
            # figure swept over weight decay keeps its height)
            if d.get(key) is not None:
                ax.vlines(d[key] + 1, -0.02, 1.02, color=theme.muted, lw=1, ls=ls, label=f"{label.strip()} at step {d[key]}")
            else:
                ax.plot([], [], color=theme.muted, lw=1, ls=ls, label=f"{label.strip()}: not reached")
            continue
        if d.get(key) is not None:
            ax.vlines(d[key] + 1, -0.02, 1.02, color=theme.muted, lw=1, ls=ls)
            # Labels in a band above the curves (which never exceed 1), so that no label crosses one.
            # A centred or left-standing label near the left end turns inward: no text past the axes, so
            # that the figure keeps its width for every weight decay (a swept figure).
            at = (np.log(d[key] + 1) - lo) / (hi - lo)
            ha = "left" if at < 0.08 and ha != "right" else ha
            pad = {"left": " ", "right": " ", "center": ""}[ha]
            ax.text(d[key] + 1, 1.04, f"{label}\n{pad}step {d[key]}{pad}", color=theme.fg, fontsize=NARROW_FONT, va="bottom", ha=ha,
                    multialignment=ha)
    plain_log_axis(ax.xaxis)  # 10, 100, 1000: no superscripts smaller than the smallest font
    ax.set_xlabel("full-batch AdamW step + 1 (log scale)")
    ax.set_ylabel("accuracy / share")
    ax.set_ylim(-0.02, 1.04 if narrow else 1.26)
    ax.set_yticks(np.linspace(0, 1, 6))
    if d["grok_step_50"] is not None and d["fit_step"]:
        title = (f"(a + b) mod {d['p']}: the training pairs are fitted at step {d['fit_step']}, the unseen\n"
                 f"ones are half right only at step {d['grok_step_50']} ({d['grok_step_50'] / d['fit_step']:.0f}× later)"
                 ", while the weights turn periodic")
    else:
        title = (f"(a + b) mod {d['p']}: the training pairs are fitted, but within\n"
                 f"{d['steps'][-1]} steps the unseen ones never reach 50%")
    if narrow:
        ax.set_title(wrap(title, lines=4))  # as many lines whether or not it groks: a swept figure keeps its height
        legend_below(ax)
        return fit_height(fig, [ax], (2.4,))
    ax.set_title(wrap(title, 11, 5.4, lines=3))  # within the axes, as many lines for every weight decay
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=NARROW_FONT, ncol=2)
    return fig


def draw_periodicity(theme, d: dict, narrow: bool = False):
    import matplotlib.pyplot as plt

    p = d["p"]
    heights = (2.4, 3.6, 2.4)  # narrow: the middle panel has three neurons' weights
    if narrow:
        fig, axes = narrow_subplots(heights)
    else:
        # Stacked, 6.9 in wide: a laptop's 688 px column shows it unscaled, its text at 12 px and up.
        fig, axes = plt.subplots(3, 1, figsize=(6.9, 13.0), gridspec_kw={"height_ratios": [1, 1.4, 1]})
    # A narrow figure's long axis labels and titles are wrapped to its width.
    fit = (lambda s: wrap(s, NARROW_FONT, 2.9)) if narrow else (lambda s: s)
    title = wrap if narrow else (lambda s: wrap(s, 10, 6.5))
    ax = axes[0]
    bins = np.linspace(0, 1, 41)
    for key, label, c in (("share_init", "at initialisation", theme.muted), ("share_final", "after training", theme.color(0))):
        vals = np.array(d[key])
        ax.hist(vals, bins=bins, color=c, alpha=0.85, label=f"{label} (median {np.median(vals):.2f})")
    ax.axvline(1 / ((p - 1) // 2), color=theme.fg, lw=1, ls=":", label="power spread evenly")
    ax.set_xlabel(fit("share of a neuron's weight power in its top frequency"))
    ax.set_ylabel(f"neurons (of {len(d['share_final'])})")
    periodic = np.median(d["share_final"]) > 0.7
    ax.set_title(title("Top: every neuron becomes (mostly) one frequency" if periodic
                       else "Top: the neurons' weight power stays spread over many frequencies"))
    if narrow:
        legend_below(ax)
    else:
        ax.legend(loc="upper center", fontsize=NARROW_FONT)

    # The weights as they are (no fitted curve drawn over them), each neuron shifted down by 3 levels;
    # dotted: its top Fourier component, which the flat stretches leave behind.
    ax = axes[1]
    r = np.arange(p)
    fine = np.linspace(0, p - 1, 600)
    level = d["weight_flat_level"]
    step = 3.0 * level
    for i, ex in enumerate(d["examples"]):
        w, w0 = np.array(ex["w_final"]), np.array(ex["w_init"])
        off = -i * step
        c = theme.color(i)
        X = np.fft.rfft(w)[ex["k"]]  # the top Fourier coefficient: amplitude and phase
        ax.plot(fine, 2 / p * np.abs(X) * np.cos(2 * np.pi * ex["k"] * fine / p + np.angle(X)) + w.mean() + off,
                ":", color=c, lw=1.1, alpha=0.9)
        ax.plot(r, w + off, "o-", color=c, ms=3.4, lw=0.9,
                label=f"neuron {ex['neuron']}: k = {ex['k']}, share {ex['share']:.2f}")
        ax.plot(r, w0 * level / max(np.abs(w0).max(), 1e-9) + off, ".", color=theme.muted, ms=2.5, alpha=0.7,
                label="same neurons at initialisation (rescaled)" if i == 0 else None)
        for y in (level, -level) if periodic else ():
            ax.axhline(y + off, color=theme.muted, lw=0.7, ls="--")
    ax.set_yticks([-i * step + y for i in range(len(d["examples"])) for y in (level, 0, -level)],
                  [f"{y:+.2f}" if y else "0" for _ in d["examples"] for y in (level, 0, -level)],
                  fontsize=NARROW_FONT)
    ax.grid(False, axis="y")
    ax.set_xlabel("residue r of operand a")
    ax.set_ylabel(fit("weight from a = r (each neuron shifted down)"))
    if periodic and d["weight_decay"]:
        bound = 1 / d["weight_decay"]
        where = ("near AdamW's bound" if level >= 0.8 * bound else "below AdamW's bound")
        ax.set_title(title(f"Middle: example neurons' weights vs residue: sinusoids clipped flat near ±{level:.2f}\n"
                           f"(dashed), {where} |w| ≤ 1/λ = {bound:g}; dotted: top Fourier component"))
    else:
        ax.set_title(title("Middle: example neurons' weights vs residue (dotted: top Fourier component)"))
    if narrow:
        legend_below(ax)
    else:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=NARROW_FONT, ncol=2)

    ax = axes[2]
    ks = np.arange(1, (p - 1) // 2 + 1)
    for i, ex in enumerate(d["examples"]):
        for key, ls, alpha, lab in (("w_init", ":", 0.8, "init"), ("w_final", "-", 1.0, "trained")):
            pw = np.abs(np.fft.rfft(np.array(ex[key]))[1:]) ** 2
            ax.plot(ks, pw / pw.sum(), ls, color=theme.color(i), alpha=alpha, lw=1.4, label=f"neuron {ex['neuron']}, {lab}")
    ax.set_xlabel(fit("frequency k (cycles over the p residues)"))
    ax.set_ylabel(fit("share of weight power (operand a)"))
    ax.set_title(title("Bottom: their spectra: flat at init; after training one spike at k,\n"
                       "with small odd harmonics 3k, 5k from the clipping" if periodic
                       else "Bottom: their spectra, at init and after training: no single spike"))
    if narrow:
        legend_below(ax)
        return fit_height(fig, axes, heights)
    ax.legend(loc="upper right", fontsize=NARROW_FONT, ncol=1)
    for ax in axes:
        ax.title.set_fontsize(10)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------
# Headline numbers and entry point.
# ----------------------------------------------------------------------------------------------


def phenomenon(data: dict) -> list[Claim]:
    fit, g50, g99 = data["fit_step"], data["grok_step_50"], data["grok_step"]
    steps, test = data["steps"], data["test_acc"]
    at_fit = test[steps.index(fit)] if fit is not None else None
    share = data["top_freq_share"]
    ratio = g50 / fit if fit and g50 else None
    g95 = data.get("grok_step_95")
    return [
        Claim("training pairs fitted (train ≥ 99%) at step", str(fit), fit is not None),
        Claim("test accuracy at the fit step < 10% (memorised, not generalised)",
              "–" if at_fit is None else f"{at_fit:.3f}", at_fit is not None and at_fit < 0.1),
        Claim(f"test 50% (grok_step_50) ≥ {DELAY:g}× later than the fit (delay_ratio)", "–" if ratio is None else f"{g50} ({ratio:.1f}×)",
              ratio is not None and ratio >= DELAY),
        Claim("test ≥ 95% (grok_step_95) reached within the run", str(g95), g95 is not None),
        Claim("test ≥ 99% (grok_step) within the run, and the final test accuracy (reported)",
              f"{'not reached' if g99 is None else g99}; {data['test_acc'][-1]:.3f}", None),
        Claim("median top-frequency share: init < 0.2, trained > 0.7",
              f"{share['init']:.2f} → {share['final']:.2f}", share["init"] < 0.2 and share["final"] > 0.7),
        Claim("trained weights within 5% of their neuron's flat level (reported)", f"{data['weight_flat_share']:.2f}", None),
    ]


if __name__ == "__main__":
    demo_main(Config, run)
