"""Gradient descent finds a circuit: grokking of modular addition by a two-layer MLP.

A two-layer MLP reads ``a`` and ``b`` as one-hot vectors (equivalently: each operand picks a row of
a weight matrix, and the two rows are added), has one hidden ReLU layer and outputs logits over the
``p`` residues. It is trained on a fraction of all ``p²`` pairs to output ``(a + b) mod p``, with
full-batch AdamW and strong weight decay. Two things to notice:

* ``grokking``: train accuracy reaches 100% early, when the network has memorised the training
  pairs; test accuracy on the unseen pairs stays at chance for a while and only climbs to ~100%
  an order of magnitude later (default run: fit at step 50, 99% test accuracy at step 1010)
  (Power, Burda, Edwards, Babuschkin and Misra 2022, "Grokking: generalization beyond overfitting on
  small algorithmic datasets", arXiv 2201.02177). ``fit_step`` is the first measured step with train
  accuracy ≥ 0.99 and ``grok_step`` the first with test accuracy ≥ 0.99 (the figure marks both).
* ``periodicity``: what the generalising network computes. For each hidden neuron, its input
  weights as a function of the residue ``r`` (for operand ``a`` and for ``b``) are taken through a
  discrete Fourier transform over ``r``; the neuron's *top-frequency share* is the fraction of its
  non-constant weight power (``a`` and ``b`` together) that sits in its single strongest frequency
  ``k`` (``k`` and ``p - k`` counted as one). Random initial weights spread power over all
  ``(p - 1) / 2`` frequencies (median share about 0.1); after grokking every neuron has most of its
  power in one frequency (median about 0.9), the signature of the Fourier-feature algorithm that Nanda, Chan, Lieberum, Smith and Steinhardt found in
  a grokked transformer ("Progress measures for grokking via mechanistic interpretability", 2023,
  arXiv 2301.05217): ``cos(2πk(a+b)/p)`` can be built from products of sinusoids of ``a`` and of ``b``.

Weight decay is what makes the late switch happen: the memorising solution fits the data first, but
the periodic solution fits it with much smaller weights, and decay keeps pulling towards it. With
``weight_decay=0`` the same run fits as fast and then stays at ~0% test accuracy for all 1500 steps.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from demos._common import demo_main, save_figure, write_data


@dataclass
class Config:
    seed: int = 0  # seeds the train/test split and the initialisation
    p: int = 59  # modulus: the task is (a + b) mod p on all p² pairs
    train_frac: float = 0.5  # share of the p² pairs used for training (the rest is the test set)
    hidden: int = 128  # hidden ReLU neurons
    steps: int = 1500  # full-batch AdamW steps
    lr: float = 2e-2  # AdamW learning rate
    weight_decay: float = 1.0  # AdamW decoupled weight decay (strong: it is what drives grokking)
    init_scale: float = 1.0  # multiplies the scale of the default (Kaiming-uniform) initialisation
    eval_every: int = 10  # steps between test-accuracy measurements
    n_examples: int = 3  # example neurons whose weights are drawn against the residue


FIGURES = {
    "grokking": "Train and test accuracy on (a + b) mod p against step (log scale): fit first, generalise much later",
    "periodicity": "Per-neuron share of input-weight power in its top Fourier frequency at init and after training, with example neurons",
}


# ----------------------------------------------------------------------------------------------
# Model and optimiser, written out (tiny enough that every tensor is visible).
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


class AdamW:
    """Full-batch AdamW (Loshchilov & Hutter, arXiv 1711.05101), a few lines.

    Written out rather than ``torch.optim.AdamW`` because the latter's first use imports PyTorch's
    compiler stack (about 2.5 s of CPU, a tenth of this demo's budget). Decay applies to the weight
    matrices, not the biases.
    """

    def __init__(self, params: dict[str, torch.Tensor], lr: float, weight_decay: float, betas=(0.9, 0.98)):
        self.params = params
        self.lr, self.wd, self.betas, self.t = lr, weight_decay, betas, 0
        self.m = {k: torch.zeros_like(v) for k, v in params.items()}
        self.v = {k: torch.zeros_like(v) for k, v in params.items()}

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for k, p in self.params.items():
            if p.dim() >= 2:
                p.mul_(1 - self.lr * self.wd)
            self.m[k].lerp_(p.grad, 1 - b1)
            self.v[k].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            p.addcdiv_(self.m[k], (self.v[k] / c2).sqrt_().add_(1e-8), value=-self.lr / c1)
            p.grad = None


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


def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    # A few million multiply-adds per step: a CPU with one thread is the intended device (`device` unused).
    p = cfg.p
    gen = torch.Generator().manual_seed(cfg.seed)
    a_all = torch.arange(p).repeat_interleave(p)  # (p²,): 0 0 0 ... 1 1 1 ...
    b_all = torch.arange(p).repeat(p)  # (p²,): 0 1 2 ... 0 1 2 ...
    y_all = (a_all + b_all) % p
    perm = torch.randperm(p * p, generator=gen)
    n_train = int(round(cfg.train_frac * p * p))
    tr, te = perm[:n_train], perm[n_train:]
    a_tr, b_tr, y_tr = a_all[tr], b_all[tr], y_all[tr]
    a_te, b_te, y_te = a_all[te], b_all[te], y_all[te]

    params = init_params(p, cfg.hidden, cfg.init_scale, gen)
    W_a_init = params["W_a"].detach().clone()  # (p, hidden)
    share_init, _ = top_frequency_share(W_a_init, params["W_b"].detach())
    opt = AdamW(params, cfg.lr, cfg.weight_decay)

    steps, train_acc, test_acc, train_loss, share_median = [], [], [], [], []
    for step in range(cfg.steps + 1):
        logits = forward(params, a_tr, b_tr)  # (n_train, p): the whole training set, every step
        loss = F.cross_entropy(logits, y_tr)
        # Measure at every step early on (the x axis is logarithmic), then every eval_every steps.
        if step % cfg.eval_every == 0 or step < cfg.eval_every or step == cfg.steps:
            with torch.no_grad():
                test_logits = forward(params, a_te, b_te)
            steps.append(step)
            train_loss.append(loss.item())
            train_acc.append((logits.argmax(-1) == y_tr).float().mean().item())
            test_acc.append((test_logits.argmax(-1) == y_te).float().mean().item())
            share, _ = top_frequency_share(params["W_a"].detach(), params["W_b"].detach())
            share_median.append(float(np.median(share)))
        if step == cfg.steps:
            break
        loss.backward()
        opt.step()

    W_a = params["W_a"].detach()
    share_final, top_k = top_frequency_share(W_a, params["W_b"].detach())
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
        "fit_step": first_at_least(steps, train_acc, 0.99),
        "grok_step": first_at_least(steps, test_acc, 0.99),
        "top_freq_share": {"init": float(np.median(share_init)), "final": float(np.median(share_final))},
        "share_init": share_init.tolist(),
        "share_final": share_final.tolist(),
        "top_freq": top_k.tolist(),
        "examples": examples,
    }
    save_figure(draw_grokking(data), out_dir, "grokking")
    save_figure(draw_periodicity(data), out_dir, "periodicity")
    write_data(out_dir, data)
    return data


# ----------------------------------------------------------------------------------------------
# Figures.
# ----------------------------------------------------------------------------------------------


def draw_grokking(d: dict):
    import matplotlib.pyplot as plt

    def draw(theme):
        fig, ax = plt.subplots(figsize=(7.2, 4.0))
        x = np.array(d["steps"]) + 1  # log axis: plot step s at s + 1 so that step 0 is shown
        ax.plot(x, d["train_acc"], color=theme.color(0), lw=2, label="train accuracy")
        ax.plot(x, d["test_acc"], color=theme.color(1), lw=2, label="test accuracy (unseen pairs)")
        ax.plot(x, d["share_median"], color=theme.color(2), lw=1.5, ls=":",
                label="median top-frequency share of neurons")
        for key, label, ls in (("fit_step", "fit", "--"), ("grok_step", "grok", "-.")):
            if d[key] is not None:
                ax.axvline(d[key] + 1, color=theme.muted, lw=1, ls=ls)
                ax.text(d[key] + 1, 0.5, f" {label}: step {d[key]}", color=theme.fg, fontsize=9,
                        rotation=90, va="center", ha="right")
        ax.set_xscale("log")
        ax.set_xlabel("full-batch AdamW step + 1 (log scale)")
        ax.set_ylabel("accuracy / share")
        ax.set_ylim(-0.02, 1.02)
        if d["grok_step"] is not None:
            ax.set_title(f"(a + b) mod {d['p']}: the training pairs are fitted long before\n"
                         "the unseen ones are right, while the weights turn periodic")
        else:
            ax.set_title(f"(a + b) mod {d['p']}: the training pairs are fitted, but within\n"
                         f"{d['steps'][-1]} steps the unseen ones never reach 99%")
        ax.legend(loc="upper left", fontsize=9)
        return fig

    return draw


def draw_periodicity(d: dict):
    import matplotlib.pyplot as plt

    p = d["p"]

    def draw(theme):
        fig, axes = plt.subplots(3, 1, figsize=(7.2, 13.0), gridspec_kw={"height_ratios": [1, 1.4, 1]})  # stacked: legible at page width
        ax = axes[0]
        bins = np.linspace(0, 1, 41)
        for key, label, c in (("share_init", "at initialisation", theme.muted), ("share_final", "after training", theme.color(0))):
            vals = np.array(d[key])
            ax.hist(vals, bins=bins, color=c, alpha=0.85, label=f"{label} (median {np.median(vals):.2f})")
        ax.axvline(1 / ((p - 1) // 2), color=theme.fg, lw=1, ls=":", label="power spread evenly")
        ax.set_xlabel("share of a neuron's weight power in its top frequency")
        ax.set_ylabel(f"neurons (of {len(d['share_final'])})")
        ax.set_title("Every neuron becomes one frequency")
        ax.legend(loc="upper center", fontsize=8.5)

        ax = axes[1]
        r = np.arange(p)
        fine = np.linspace(0, p - 1, 600)
        spread = 0.0
        for i, ex in enumerate(d["examples"]):
            w = np.array(ex["w_final"])
            spread = max(spread, 2.6 * np.abs(w - w.mean()).max())
        for i, ex in enumerate(d["examples"]):
            w, w0 = np.array(ex["w_final"]), np.array(ex["w_init"])
            off = -i * spread
            X = np.fft.rfft(w)[ex["k"]]  # the top Fourier coefficient gives amplitude and phase
            fit = w.mean() + 2 / p * np.abs(X) * np.cos(2 * np.pi * ex["k"] * fine / p + np.angle(X))
            c = theme.color(i)
            ax.plot(fine, fit + off - w.mean(), color=c, lw=1, alpha=0.7)
            ax.plot(r, w + off - w.mean(), "o", color=c, ms=3.2,
                    label=f"neuron {ex['neuron']}: k = {ex['k']}, share {ex['share']:.2f}")
            ax.plot(r, w0 * spread / 2.6 / max(np.abs(w0).max(), 1e-9) + off, ".", color=theme.muted, ms=2.5, alpha=0.7,
                    label="same neurons at initialisation (rescaled)" if i == 0 else None)
        ax.set_yticks([])
        ax.set_xlabel("residue r of operand a")
        ax.set_ylabel("weight from a = r (shifted)")
        ax.set_title("Example neurons' weights vs residue, with cos(2πkr/p + φ)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8.5, ncol=2)

        ax = axes[2]
        ks = np.arange(1, (p - 1) // 2 + 1)
        for i, ex in enumerate(d["examples"]):
            for key, ls, alpha, lab in (("w_init", ":", 0.8, "init"), ("w_final", "-", 1.0, "trained")):
                pw = np.abs(np.fft.rfft(np.array(ex[key]))[1:]) ** 2
                ax.plot(ks, pw / pw.sum(), ls, color=theme.color(i), alpha=alpha, lw=1.4,
                        label=f"neuron {ex['neuron']}, {lab}")
        ax.set_xlabel("frequency k (cycles over the p residues)")
        ax.set_ylabel("share of weight power (operand a)")
        ax.set_title("Their spectra: flat at init, one spike after")
        ax.legend(loc="upper right", fontsize=7.5, ncol=1)
        fig.tight_layout()
        return fig

    return draw


if __name__ == "__main__":
    demo_main(Config, run)
