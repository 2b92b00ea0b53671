"""Next-token prediction: one training signal, two very different things learned.

A tiny causal transformer (token and position embeddings, causal self-attention, an MLP, layer norm;
written out below) is trained only to predict the next token, on two kinds of sequence:

* **addition**: ``a b c`` where ``a`` and ``b`` are two-digit numbers written digit by digit and ``c``
  is their sum written with its three digits *reversed* (least significant first, so that each answer
  digit depends on digits already seen plus a carry). The loss counts only the answer tokens. A random
  subset of the 10,000 ``(a, b)`` pairs is held out and never trained on. The figure should make
  obvious that exact-match accuracy on the held-out pairs climbs together with accuracy on the
  training pairs: the network learns the carrying procedure, not a lookup table, because a table
  would say nothing about pairs it has never seen (default run: both reach 100% by step ~225).
  (The task is the one of minGPT's ``projects/adder``; the code here is written from scratch.)
* **charlm**: a character-level language model on the Python documentation that ships with the
  standard library (``pydoc_data.topics``), against three baselines measured on the same validation
  text in nats per character: uniform over the alphabet, unigram and bigram frequencies counted on the
  training text (add-one smoothing). The figure should make obvious that the transformer passes the
  unigram line quickly and then goes clearly below the bigram line: to do that it must use more than
  the previous character (default run: 1.77 nats/char against 2.31 for the bigram). Samples at
  temperature 1 from a few steps show the progression from letter soup towards word fragments and
  the layout of the docs; the model is far too small and briefly trained for fluent text.

References: Radford et al. 2019, "Language Models are Unsupervised Multitask Learners" (GPT-2);
Vaswani et al. 2017, "Attention Is All You Need", arXiv 1706.03762; Lee et al. 2023, "Teaching
Arithmetic to Small Transformers", arXiv 2307.03381 (why the reversed answer helps); Karpathy's
minGPT (adder project).
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from demos._common import demo_main, save_figure, write_data


@dataclass
class Config:
    seed: int = 0  # seeds the initialisations, the held-out split, the batches and the samples
    add_d_model: int = 32  # width of the addition model's residual stream
    add_layers: int = 2  # transformer blocks of the addition model (one is not enough for the carry)
    add_heads: int = 2  # attention heads per block of the addition model
    add_steps: int = 400  # optimiser steps for the addition model
    add_batch: int = 256  # sequences per batch (smaller batches make the jump to 100% erratic)
    add_lr: float = 3e-3  # peak AdamW learning rate for addition
    heldout_frac: float = 0.25  # share of the 10,000 (a, b) pairs never trained on
    add_eval_every: int = 25  # steps between accuracy measurements
    add_eval_n: int = 500  # pairs of each kind scored at intermediate measurements (all at the end)
    lm_d_model: int = 64  # width of the character model's residual stream
    lm_layers: int = 1  # transformer blocks of the character model
    lm_heads: int = 4  # attention heads per block of the character model
    lm_steps: int = 300  # optimiser steps for the character model
    lm_batch: int = 32  # windows per character-model batch
    lm_context: int = 32  # characters of context the character model sees
    lm_lr: float = 3e-3  # peak AdamW learning rate for the character model
    lm_eval_every: int = 25  # steps between validation-loss measurements
    lm_val_chars: int = 8192  # the validation split: the text's last this many characters
    sample_len: int = 120  # characters generated per sample
    n_samples: int = 3  # samples shown, at evenly spaced steps ending with the last


FIGURES = {
    "addition": "Exact-match accuracy of 2-digit addition on training pairs and on never-seen pairs vs step",
    "charlm": "Character model's validation loss vs step against uniform, unigram and bigram baselines, with samples",
}


# ----------------------------------------------------------------------------------------------
# The model: a GPT in miniature.
# ----------------------------------------------------------------------------------------------


class CausalSelfAttention(nn.Module):
    """Every position mixes the values of itself and earlier positions, weighted by query-key match."""

    def __init__(self, d_model: int, n_head: int, block_size: int):
        super().__init__()
        assert d_model % n_head == 0
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        # Lower-triangular mask: position t may look at positions <= t, never at the future it predicts.
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size, dtype=torch.bool)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)  # each (B, T, C)
        # Split the channels into heads: (B, n_head, T, head_dim).
        q, k, v = (z.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for z in (q, k, v))
        att = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # (B, h, T, T)
        att = att.masked_fill(~self.mask[:T, :T], float("-inf")).softmax(dim=-1)
        y = att @ v  # (B, h, T, head_dim)
        y = y.transpose(1, 2).reshape(B, T, C)  # heads side by side again
        return self.proj(y)


class Block(nn.Module):
    """Pre-norm residual block: attention moves information between positions, the MLP computes."""

    def __init__(self, d_model: int, n_head: int, block_size: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head, block_size)
        self.ln2 = nn.LayerNorm(d_model)
        # ReLU rather than GPT's GELU: the same job at this size, and several times cheaper on a CPU.
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.ReLU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    """Token + position embeddings, a stack of blocks, a final layer norm and a linear read-out."""

    def __init__(self, vocab: int, block_size: int, d_model: int, n_layer: int, n_head: int):
        super().__init__()
        self.block_size = block_size
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(block_size, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_head, block_size) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)
        for m in self.modules():  # GPT-2's small initialisation keeps early logits near uniform
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.size(1)
        x = self.tok(idx) + self.pos(torch.arange(T))  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))  # (B, T, vocab): logits for the token after each position


class AdamW:
    """AdamW (Loshchilov & Hutter, arXiv 1711.05101) written out in a few lines.

    Why not ``torch.optim.AdamW``: its first use imports PyTorch's compiler stack, which costs about
    2.5 s of CPU, a tenth of this demo's whole budget. The update is the textbook one: decoupled
    weight decay, then Adam's bias-corrected first and second moments.
    """

    def __init__(self, params, lr: float, betas=(0.9, 0.98), eps: float = 1e-8, weight_decay: float = 0.1):
        self.params = [p for p in params if p.requires_grad]
        # Weight decay on matrices only; decaying layer-norm gains and biases only hurts.
        self.decay = [weight_decay if p.dim() >= 2 else 0.0 for p in self.params]
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for p, m, v, wd in zip(self.params, self.m, self.v, self.decay):
            p.mul_(1 - self.lr * wd)
            m.lerp_(p.grad, 1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            p.addcdiv_(m, (v / c2).sqrt_().add_(self.eps), value=-self.lr / c1)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


def lr_at(step: int, total: int, base: float) -> float:
    """Warm up for 20 steps, hold, then decay linearly to a tenth over the last fifth of training.

    Holding the rate high (rather than a cosine that starts decaying at once) matters for addition:
    its jump from chance to 100% comes after a plateau, and a shrinking rate delays it.
    """
    decay_from = int(0.8 * total)
    if step < 20:
        return base * (step + 1) / 20
    if step < decay_from:
        return base
    return base * (1 - 0.9 * (step - decay_from) / max(1, total - decay_from))


# ----------------------------------------------------------------------------------------------
# Part 1: addition.
# ----------------------------------------------------------------------------------------------


def addition_sequences(ab: torch.Tensor) -> torch.Tensor:
    """(N, 2) pairs -> (N, 7) digit tokens: a1 a0 b1 b0 c0 c1 c2 (the sum's digits reversed)."""
    a, b = ab[:, 0], ab[:, 1]
    c = a + b
    return torch.stack([a // 10, a % 10, b // 10, b % 10, c % 10, (c // 10) % 10, c // 100], dim=1)


@torch.no_grad()
def exact_match(model: TinyGPT, seqs: torch.Tensor) -> float:
    """Share of sequences whose three answer digits are all predicted right.

    One teacher-forced pass suffices: greedy decoding writes the same tokens as long as every
    earlier answer digit was right, so "all three argmaxes right under teacher forcing" is exactly
    "greedy decoding produces the whole answer".
    """
    right = 0
    for chunk in seqs.split(512):  # chunks keep activations in cache, several times faster than one pass
        logits = model(chunk[:, :-1])[:, 3:]  # (n, 3, 10): outputs at positions 3..5 predict tokens 4..6
        right += (logits.argmax(-1) == chunk[:, 4:]).all(dim=1).sum().item()
    return right / len(seqs)


def run_addition(cfg: Config) -> dict:
    gen = torch.Generator().manual_seed(cfg.seed)
    pairs = torch.cartesian_prod(torch.arange(100), torch.arange(100))  # all 10,000 (a, b)
    perm = torch.randperm(len(pairs), generator=gen)
    n_held = int(round(cfg.heldout_frac * len(pairs)))
    held = addition_sequences(pairs[perm[:n_held]])
    train = addition_sequences(pairs[perm[n_held:]])

    torch.manual_seed(cfg.seed)
    model = TinyGPT(10, 6, cfg.add_d_model, cfg.add_layers, cfg.add_heads)
    opt = AdamW(model.parameters(), cfg.add_lr)
    # The curves use fixed subsets (scoring all 10,000 pairs every few steps would cost more than
    # training); the final numbers use every pair.
    train_eval, held_eval = train[: cfg.add_eval_n], held[: cfg.add_eval_n]
    steps, train_acc, held_acc = [], [], []
    for step in range(cfg.add_steps + 1):
        if step % cfg.add_eval_every == 0 or step == cfg.add_steps:
            steps.append(step)
            train_acc.append(exact_match(model, train_eval))
            held_acc.append(exact_match(model, held_eval))
        if step == cfg.add_steps:
            break
        batch = train[torch.randint(len(train), (cfg.add_batch,), generator=gen)]  # (B, 7)
        logits = model(batch[:, :-1])[:, 3:]  # only the answer positions carry loss
        loss = F.cross_entropy(logits.reshape(-1, 10), batch[:, 4:].reshape(-1))
        opt.lr = lr_at(step, cfg.add_steps, cfg.add_lr)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"steps": steps, "train_acc": train_acc, "heldout_acc": held_acc, "n_heldout": n_held,
            "n_train": len(train), "final_train_acc": exact_match(model, train),
            "final_heldout_acc": exact_match(model, held)}


# ----------------------------------------------------------------------------------------------
# Part 2: a character-level language model.
# ----------------------------------------------------------------------------------------------


def load_text() -> str:
    from pydoc_data.topics import topics

    return "".join(topics[k] for k in sorted(topics))  # sorted keys: a fixed order on every run


def ngram_baselines(train: np.ndarray, val: np.ndarray, vocab: int) -> dict:
    """Cross-entropy (nats/char) on val[1:] of uniform, unigram and bigram models counted on train."""
    uni = np.bincount(train, minlength=vocab) + 1.0  # add-one smoothing
    uni_nll = -np.log(uni[val[1:]] / uni.sum()).mean()
    big = np.ones((vocab, vocab))
    np.add.at(big, (train[:-1], train[1:]), 1.0)
    big /= big.sum(axis=1, keepdims=True)
    big_nll = -np.log(big[val[:-1], val[1:]]).mean()
    return {"uniform": math.log(vocab), "unigram": float(uni_nll), "bigram": float(big_nll)}


@torch.no_grad()
def sample(model: TinyGPT, prompt: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    idx = prompt[None]  # (1, T0)
    for _ in range(n):
        logits = model(idx[:, -model.block_size:])[:, -1]  # (1, vocab)
        nxt = torch.multinomial(logits.softmax(-1), 1, generator=gen)
        idx = torch.cat([idx, nxt], dim=1)
    return idx[0, prompt.numel():]


def run_charlm(cfg: Config) -> dict:
    text = load_text()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text])
    T = cfg.lm_context
    # Fixed split: the last lm_val_chars (+1) characters are validation, everything before is training.
    # The validation text is cut into non-overlapping windows of T, scored the same way every time.
    n_win = cfg.lm_val_chars // T
    train, val = ids[: -(n_win * T + 1)], ids[-(n_win * T + 1):]
    val_x = val[:-1].view(n_win, T)  # (n_win, T)
    val_y = val[1:].view(n_win, T)  # (n_win, T): the character after each input character
    # The baselines predict exactly the same validation characters (each from its predecessor).
    baselines = ngram_baselines(train.numpy(), val.numpy(), len(chars))

    gen = torch.Generator().manual_seed(cfg.seed + 1)
    torch.manual_seed(cfg.seed + 1)
    model = TinyGPT(len(chars), T, cfg.lm_d_model, cfg.lm_layers, cfg.lm_heads)
    opt = AdamW(model.parameters(), cfg.lm_lr)
    sample_steps = set(np.linspace(0, cfg.lm_steps, cfg.n_samples + 1).round().astype(int)[1:].tolist())
    prompt = torch.tensor([stoi[c] for c in "The "])
    steps, val_loss, samples = [], [], []
    for step in range(cfg.lm_steps + 1):
        if step % cfg.lm_eval_every == 0 or step == cfg.lm_steps:
            with torch.no_grad():
                nll = 0.0
                for x, y in zip(val_x.split(32), val_y.split(32)):  # chunks: see exact_match
                    logits = model(x)  # (32, T, vocab)
                    nll += F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1), reduction="sum").item()
                val_loss.append(nll / val_y.numel())
            steps.append(step)
        if step in sample_steps:
            out = sample(model, prompt, cfg.sample_len, torch.Generator().manual_seed(cfg.seed + step))
            samples.append({"step": step, "text": "The " + "".join(chars[i] for i in out.tolist())})
        if step == cfg.lm_steps:
            break
        start = torch.randint(len(train) - T - 1, (cfg.lm_batch,), generator=gen)
        window = train[start[:, None] + torch.arange(T + 1)]  # (B, T+1)
        logits = model(window[:, :-1])  # (B, T, vocab)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), window[:, 1:].reshape(-1))
        opt.lr = lr_at(step, cfg.lm_steps, cfg.lm_lr)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"steps": steps, "val_loss": val_loss, "baselines": baselines, "samples": samples,
            "vocab": len(chars), "n_train_chars": len(train), "n_val_chars": n_win * T, "context": T}


# ----------------------------------------------------------------------------------------------
# Figures.
# ----------------------------------------------------------------------------------------------


def draw_addition(add: dict):
    import matplotlib.pyplot as plt

    def draw(theme):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        ax.plot(add["steps"], add["train_acc"], color=theme.color(0), lw=2,
                label=f"training pairs ({add['n_train']})")
        ax.plot(add["steps"], add["heldout_acc"], color=theme.color(1), lw=2, ls="--",
                label=f"held-out pairs, never trained on ({add['n_heldout']})")
        ax.axhline(1e-3, color=theme.muted, lw=1, ls=":", label="chance (1 in 1000)")
        ax.set_xlabel("optimiser step")
        ax.set_ylabel("exact-match accuracy (all 3 digits)")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title("2-digit addition by next-token prediction:\nunseen pairs are solved as well as trained ones")
        ax.legend(loc="lower right", fontsize=9)
        return fig

    return draw


def draw_charlm(lm: dict):
    import matplotlib.pyplot as plt

    def draw(theme):
        fig, (ax, tx) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 1.25]})
        ax.plot(lm["steps"], lm["val_loss"], color=theme.color(0), lw=2, label=f"tiny transformer (context {lm['context']})")
        for i, (name, label) in enumerate([("uniform", "uniform"), ("unigram", "unigram"), ("bigram", "bigram")]):
            ax.axhline(lm["baselines"][name], color=theme.color(i + 1), lw=1.2, ls="--",
                       label=f"{label} baseline ({lm['baselines'][name]:.2f})")
        ax.set_xlabel("optimiser step")
        ax.set_ylabel("validation loss (nats per character)")
        ax.set_title("Character model on Python's docs:\nbelow bigram means it uses more than one character")
        ax.legend(loc="center right", bbox_to_anchor=(1.0, 0.66), fontsize=8.5)
        tx.axis("off")
        tx.set_title("samples after the prompt \"The \"", loc="left")
        y = 1.0
        for s in lm["samples"]:
            tx.text(0, y, f"step {s['step']}", color=theme.muted, fontsize=9, va="top",
                    transform=tx.transAxes, parse_math=False)
            y -= 0.065
            body = s["text"].replace("\t", " ")
            lines = []
            for para in body.split("\n"):
                lines.extend(textwrap.wrap(para, 62, drop_whitespace=False) or [""])
            lines = [ln.rstrip() for ln in lines][:6]
            tx.text(0, y, "\n".join(lines), color=theme.fg, fontsize=8, family="monospace", va="top",
                    transform=tx.transAxes, parse_math=False, linespacing=1.25)
            y -= 0.065 + 0.052 * len(lines)
        return fig

    return draw


def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    # Both models are tiny: a CPU with one thread is the intended device, so `device` is not used.
    data = {"addition": run_addition(cfg), "charlm": run_charlm(cfg)}
    save_figure(draw_addition(data["addition"]), out_dir, "addition")
    save_figure(draw_charlm(data["charlm"]), out_dir, "charlm")
    write_data(out_dir, data)
    return data


if __name__ == "__main__":
    demo_main(Config, run)
