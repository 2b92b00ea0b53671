"""Next-token prediction: one training signal, two very different things learned.

A tiny causal transformer (token and position embeddings, causal self-attention, an MLP, layer norm;
written out below, with a leading model axis so that several independent models train as one
batched program) is trained only to predict the next token, on two kinds of sequence:

* **addition**: ``a b c`` where ``a`` and ``b`` are two-digit numbers written digit by digit and ``c``
  is their sum written with its three digits *reversed* (least significant first, so that each answer
  digit depends on digits already seen plus a carry). The loss counts only the answer tokens. The
  main model trains on a quarter of the 10,000 ``(a, b)`` pairs; the other three quarters are held
  out and never trained on. A pair and its mirror image ``(b, a)`` always fall on the same side, so a
  held-out sum cannot be read off its mirror. (Every *answer* 0..198 does occur in training: what is
  held out is the pair, not the sum.) The figure
  should make obvious that exact-match accuracy on the held-out pairs climbs together with accuracy
  on the training pairs: the network learns the carrying procedure, not a lookup table, because a
  table would say nothing about pairs it has never seen. **addition_sweep** trains the same model on
  smaller shares of the pairs at the same time: with 2% of the pairs it memorises them (training
  accuracy 100%) and gets about 90% of unseen pairs wrong; from about a tenth of the pairs on it
  generalises (default run: held-out 9%, 62%, 99%, 98% at 2%, 5%, 10%, 25% of the pairs).
  That is what "learns the procedure" means here: enough examples that memorising is no longer the
  cheaper fit. (The task is the one of minGPT's ``projects/adder``; the code here is written from
  scratch.)
* **charlm**: a character-level language model on the Python documentation that ships with the
  standard library (``pydoc_data.topics``). That text repeats itself (whole sections appear under
  several topics), so a plain "last 8k characters" split leaks: 83% of its 16-character windows
  occur verbatim in the training text. Here the validation text is one whole topic (the ``pdb``
  chapter by default), and every stretch of the training text that contains one of its 16-character
  windows is cut out of training (about 3% of it), so ``val_overlap_16`` is 0 by construction and
  measured. Baselines are interpolated Kneser-Ney n-gram models (Chen & Goodman 1999) of orders 1, 2,
  3 and 5, counted on the same training text and scored on exactly the same (context, next
  character) pairs as the transformer. The figure should make obvious that the transformer goes below
  the bigram and the trigram lines, so it uses more than the last two characters, and where it stands
  against the 5-gram (default run: 2.16 nats/char, against 2.21 for the trigram and 1.80 for the
  5-gram: a 5-gram with good smoothing is still better than this model after 600 small steps).
  Samples at temperature 1 from a few steps show letter soup turning into word fragments and the
  layout of the docs.

References: Radford et al. 2019, "Language Models are Unsupervised Multitask Learners" (GPT-2);
Vaswani et al. 2017, "Attention Is All You Need", arXiv 1706.03762; Lee et al. 2023, "Teaching
Arithmetic to Small Transformers", arXiv 2307.03381 (why the reversed answer helps); Chen & Goodman
1999, "An empirical study of smoothing techniques for language modeling" (interpolated Kneser-Ney);
Brown et al. 2020, arXiv 2005.14165, §4 (measuring train-test overlap by n-gram collisions);
Karpathy's minGPT (adder project).
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
from numpy.lib.stride_tricks import sliding_window_view

from demos._common import (NARROW_FONT, NARROW_TEXT_IN, NARROW_TITLE, AdamW, Claim, demo_main, fit_height, legend_below, narrow_subplots,
                           plain_log_axis, save_figure, wrap, write_data)


@dataclass
class Config:
    seed: int = 0  # seeds the initialisations, the held-out split, the batches and the samples
    add_d_model: int = 32  # width of the addition model's residual stream
    add_layers: int = 2  # transformer blocks of the addition model (one is not enough for the carry)
    add_heads: int = 2  # attention heads per block of the addition model
    add_steps: int = 300  # optimiser steps for the addition models
    add_batch: int = 128  # sequences per batch and model (with fewer, or fewer steps, the jump to 100% is erratic)
    add_lr: float = 3e-3  # peak AdamW learning rate for addition
    heldout_frac: float = 0.75  # share of the 10,000 (a, b) pairs the main addition model never sees
    add_sweep: str = "0.02,0.05,0.1"  # training shares of the extra addition models, comma separated
    add_eval_every: int = 25  # steps between accuracy measurements
    add_eval_n: int = 1000  # pairs scored at intermediate measurements (all 10,000 at the end)
    lm_d_model: int = 64  # width of the character model's residual stream
    lm_layers: int = 1  # transformer blocks of the character model
    lm_heads: int = 4  # attention heads per block of the character model
    lm_steps: int = 600  # optimiser steps for the character model
    lm_decay_share: float = 0.5  # last share of its steps over which its rate decays (its loss falls most then)
    lm_batch: int = 32  # windows per character-model batch
    lm_context: int = 32  # characters of context the character model sees
    lm_lr: float = 3e-3  # peak AdamW learning rate for the character model
    lm_eval_every: int = 50  # steps between validation-loss measurements
    lm_val_topic: str = "debugger"  # the pydoc topic held out as validation text (pdb's chapter)
    lm_val_chars: int = 8192  # validation characters scored: the start of that topic
    sample_len: int = 120  # characters generated per sample
    n_samples: int = 3  # samples shown, at evenly spaced steps ending with the last


FIGURES = {
    "addition": "Exact-match accuracy of 2-digit addition on training pairs and on never-seen pairs vs step",
    "addition_sweep": "Held-out accuracy of the addition model against the share of pairs it is trained on",
    "charlm": "Character model's validation loss vs step against Kneser-Ney n-gram baselines, with samples",
}

LEAK_N = 16  # no validation window of this many characters may occur in the training text
NGRAM_ORDERS = {"unigram": 1, "bigram": 2, "trigram": 3, "fivegram": 5}


# ----------------------------------------------------------------------------------------------
# The model: M independent GPTs in miniature, evaluated as one batched program.
# Every parameter carries a leading model axis M; inputs are (M, B, T) token ids.
# ----------------------------------------------------------------------------------------------


class Linear(nn.Module):
    """M independent linear maps: (M, ..., n_in) -> (M, ..., n_out)."""

    def __init__(self, M: int, n_in: int, n_out: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(0.02 * torch.randn(M, n_in, n_out))  # GPT-2's small initialisation
        self.bias = nn.Parameter(torch.zeros(M, n_out)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], -1, x.shape[-1])  # (M, N, n_in)
        y = flat @ self.weight if self.bias is None else torch.baddbmm(self.bias[:, None], flat, self.weight)
        return y.view(*x.shape[:-1], -1)


class LayerNorm(nn.Module):
    """Layer norm over the channels with a gain and a bias per model: (M, ..., C) -> (M, ..., C)."""

    def __init__(self, M: int, C: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(M, C))
        self.bias = nn.Parameter(torch.zeros(M, C))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
        return F.layer_norm(x, x.shape[-1:]) * self.weight.view(shape) + self.bias.view(shape)


class CausalSelfAttention(nn.Module):
    """Every position mixes the values of itself and earlier positions, weighted by query-key match."""

    def __init__(self, M: int, d_model: int, n_head: int):
        super().__init__()
        assert d_model % n_head == 0
        self.n_head = n_head
        self.qkv = Linear(M, d_model, 3 * d_model)
        self.proj = Linear(M, d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        M, B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=-1)  # each (M, B, T, C)
        # Split the channels into heads, models and sequences into one batch axis: (M·B, n_head, T, head_dim).
        q, k, v = (z.reshape(M * B, T, self.n_head, C // self.n_head).transpose(1, 2) for z in (q, k, v))
        # softmax(q kᵀ / √head_dim) v, where position t may only look at positions <= t (never at the
        # future it predicts). PyTorch's fused kernel computes exactly that, about 3x faster on a CPU
        # than the four operations written out.
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (M·B, h, T, head_dim)
        return self.proj(y.transpose(1, 2).reshape(M, B, T, C))  # heads side by side again


class Block(nn.Module):
    """Pre-norm residual block: attention moves information between positions, the MLP computes."""

    def __init__(self, M: int, d_model: int, n_head: int):
        super().__init__()
        self.ln1 = LayerNorm(M, d_model)
        self.attn = CausalSelfAttention(M, d_model, n_head)
        self.ln2 = LayerNorm(M, d_model)
        # ReLU rather than GPT's GELU: the same job at this size, and several times cheaper on a CPU.
        self.fc = Linear(M, d_model, 4 * d_model)
        self.out = Linear(M, 4 * d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.out(F.relu(self.fc(self.ln2(x))))


class TinyGPT(nn.Module):
    """Token + position embeddings, a stack of blocks, a final layer norm and a linear read-out."""

    def __init__(self, M: int, vocab: int, block_size: int, d_model: int, n_layer: int, n_head: int):
        super().__init__()
        self.block_size = block_size
        self.tok = nn.Parameter(0.02 * torch.randn(M, vocab, d_model))
        self.pos = nn.Parameter(0.02 * torch.randn(M, block_size, d_model))
        self.blocks = nn.ModuleList(Block(M, d_model, n_head) for _ in range(n_layer))
        self.ln_f = LayerNorm(M, d_model)
        self.head = Linear(M, d_model, vocab, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        M, B, T = idx.shape
        x = self.tok[torch.arange(M)[:, None, None], idx] + self.pos[:, None, :T]  # (M, B, T, C)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))  # (M, B, T, vocab): logits for the token after each position


def make_optimizer(model: TinyGPT, lr: float) -> AdamW:
    # betas (0.9, 0.98) as in small-transformer practice; decay on the matrices and embeddings, which
    # carry the model axis plus two more (biases and layer-norm gains have two dimensions in all).
    return AdamW(model.parameters(), lr, weight_decay=0.1, betas=(0.9, 0.98), decay_ndim=3)


def lr_at(step: int, total: int, base: float, decay_share: float = 0.2) -> float:
    """Warm up for 20 steps, hold, then decay linearly to a tenth over the last ``decay_share`` of training.

    Holding the rate high (rather than a cosine that starts decaying at once) matters for addition:
    its jump from chance to 100% comes after a plateau, and a shrinking rate delays it. The
    character model is the other way round: most of its loss goes while the rate shrinks, so it
    decays over its last half.
    """
    decay_from = int((1 - decay_share) * total)
    if step < 20:
        return base * (step + 1) / 20
    if step < decay_from:
        return base
    return base * (1 - 0.9 * (step - decay_from) / max(1, total - decay_from))


# ----------------------------------------------------------------------------------------------
# Part 1: addition, at several training shares at once.
# ----------------------------------------------------------------------------------------------


def addition_sequences(ab: torch.Tensor) -> torch.Tensor:
    """(N, 2) pairs -> (N, 7) digit tokens: a1 a0 b1 b0 c0 c1 c2 (the sum's digits reversed)."""
    a, b = ab[:, 0], ab[:, 1]
    c = a + b
    return torch.stack([a // 10, a % 10, b // 10, b % 10, c % 10, (c // 10) % 10, c // 100], dim=1)


def ranked_pairs(gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, int]:
    """All 10,000 pairs as (10000, 7) sequences, sorted by a random rank of the unordered pair {a, b}.

    A training set of share f is the first rows up to rank f·5050: (a, b) and (b, a) share a rank,
    so they are always on the same side of a split, and smaller training sets nest in larger ones.
    Returns the sequences, each row's rank and the number of unordered pairs (5050).
    """
    pairs = torch.cartesian_prod(torch.arange(100), torch.arange(100))  # (10000, 2)
    unordered = pairs.min(dim=1).values * 100 + pairs.max(dim=1).values  # one id for (a, b) and (b, a)
    ids, which = torch.unique(unordered, return_inverse=True)
    rank = torch.randperm(len(ids), generator=gen)[which]  # (10000,)
    order = torch.argsort(rank, stable=True)
    return addition_sequences(pairs[order]), rank[order], len(ids)


@torch.no_grad()
def answers_right(model: TinyGPT, seqs: torch.Tensor) -> torch.Tensor:
    """(M, N) bool: whether each model gets all three answer digits of each sequence right.

    One teacher-forced pass suffices: greedy decoding writes the same tokens as long as every
    earlier answer digit was right, so "all three argmaxes right under teacher forcing" is exactly
    "greedy decoding produces the whole answer".
    """
    M = model.tok.shape[0]
    out = []
    for chunk in seqs.split(500):  # chunks keep activations in cache, several times faster than one pass
        logits = model(chunk[None, :, :-1].expand(M, -1, -1))[:, :, 3:]  # (M, n, 3, 10): positions 3..5 predict 4..6
        out.append((logits.argmax(-1) == chunk[None, :, 4:]).all(dim=-1))
    return torch.cat(out, dim=1)


def run_addition(cfg: Config) -> dict:
    gen = torch.Generator().manual_seed(cfg.seed)
    seqs, rank, n_unordered = ranked_pairs(gen)
    # Model 0 is the main model (the addition figure); the others are the sweep's smaller shares.
    fracs = [1 - cfg.heldout_frac] + [float(f) for f in cfg.add_sweep.split(",")]
    n_train = torch.tensor([int((rank < round(f * n_unordered)).sum()) for f in fracs])  # (M,) rows are sorted by rank
    M = len(fracs)
    # Intermediate measurements use one fixed random subset of pairs; for each model it splits into
    # the pairs that model trains on and those it never sees. The final numbers use every pair.
    ev = torch.randperm(len(seqs), generator=gen)[: cfg.add_eval_n]
    ev_train = ev[None, :] < n_train[:, None]  # (M, E)

    torch.manual_seed(cfg.seed)
    model = TinyGPT(M, 10, 6, cfg.add_d_model, cfg.add_layers, cfg.add_heads)
    opt = make_optimizer(model, cfg.add_lr)
    steps, train_acc, held_acc = [], [], []  # curves: one list per measurement, one value per model
    for step in range(cfg.add_steps + 1):
        if step % cfg.add_eval_every == 0 or step == cfg.add_steps:
            right = answers_right(model, seqs[ev]).float()  # (M, E)
            steps.append(step)
            train_acc.append(((right * ev_train).sum(1) / ev_train.sum(1).clamp(min=1)).tolist())
            held_acc.append(((right * ~ev_train).sum(1) / (~ev_train).sum(1)).tolist())
        if step == cfg.add_steps:
            break
        # Each model draws its batch from its own training rows (a prefix of the ranked pairs).
        idx = (torch.rand(M, cfg.add_batch, generator=gen) * n_train[:, None]).long()  # (M, B)
        batch = seqs[idx]  # (M, B, 7)
        logits = model(batch[..., :-1])[:, :, 3:]  # (M, B, 3, 10): only the answer positions carry loss
        # Mean over each model's answers, summed over models: every model gets its own full gradient.
        loss = M * F.cross_entropy(logits.reshape(-1, 10), batch[..., 4:].reshape(-1))
        opt.lr = lr_at(step, cfg.add_steps, cfg.add_lr)
        opt.zero_grad()
        loss.backward()
        opt.step()

    right = answers_right(model, seqs)  # (M, 10000)
    in_train = torch.arange(len(seqs))[None, :] < n_train[:, None]  # (M, 10000)
    final_train = [right[m][in_train[m]].float().mean().item() for m in range(M)]
    final_held = [right[m][~in_train[m]].float().mean().item() for m in range(M)]
    curves = {"steps": steps, "train_acc": np.array(train_acc).T, "heldout_acc": np.array(held_acc).T}  # (M, S)
    main = {"steps": steps, "train_acc": curves["train_acc"][0], "heldout_acc": curves["heldout_acc"][0],
            "n_heldout": len(seqs) - int(n_train[0]), "n_train": int(n_train[0]),
            "final_train_acc": final_train[0], "final_heldout_acc": final_held[0]}
    by_frac = np.argsort(fracs)
    sweep = {
        "train_fraction": [fracs[m] for m in by_frac],
        "n_train": [int(n_train[m]) for m in by_frac],
        "heldout_acc": [final_held[m] for m in by_frac],
        "train_acc": [final_train[m] for m in by_frac],
        "steps": steps,
        "heldout_curves": curves["heldout_acc"][by_frac],
    }
    return {"addition": main, "addition_sweep": sweep}


# ----------------------------------------------------------------------------------------------
# Part 2: a character-level language model on a leak-free split.
# ----------------------------------------------------------------------------------------------


def windows(ids: np.ndarray, n: int) -> np.ndarray:
    """Every n-character window of ids as one opaque n-byte value (comparable, sortable): (len - n + 1,)."""
    w = np.ascontiguousarray(sliding_window_view(ids.astype(np.uint8), n))  # (L - n + 1, n); vocab < 256
    return w.view(np.dtype((np.void, n)))[:, 0]


def clean_split(cfg: Config) -> dict:
    """Character ids of the training text, the mask of its characters kept, and the validation text.

    Validation is the start of one topic, which is left out of training; then every training
    character inside a window of LEAK_N characters that also occurs in validation is dropped (it is
    masked, and no training window or n-gram may contain it).
    """
    from pydoc_data.topics import topics

    if cfg.lm_val_topic not in topics:
        raise ValueError(f"lm_val_topic {cfg.lm_val_topic!r} is not a pydoc topic; some: {', '.join(sorted(topics)[:12])}")
    chars = sorted(set("".join(topics.values())))
    stoi = {c: i for i, c in enumerate(chars)}
    encode = lambda s: np.array([stoi[c] for c in s], dtype=np.int64)
    T = cfg.lm_context
    n_win = cfg.lm_val_chars // T
    val_text = topics[cfg.lm_val_topic][: n_win * T + 1]
    if len(val_text) < n_win * T + 1:
        raise ValueError(f"topic {cfg.lm_val_topic!r} has only {len(val_text)} characters; lower lm_val_chars")
    train = encode("".join(topics[k] for k in sorted(topics) if k != cfg.lm_val_topic))  # sorted: a fixed order
    val = encode(val_text)

    val_windows = windows(val, LEAK_N)
    hit = np.flatnonzero(np.isin(windows(train, LEAK_N), val_windows))  # start of each leaking window
    cover = np.zeros(len(train) + 1, dtype=np.int64)  # +1 at each hit's start, -1 past its end
    np.add.at(cover, hit, 1)
    np.add.at(cover, hit + LEAK_N, -1)
    dropped = np.cumsum(cover)[: len(train)] > 0  # (L,) characters inside some leaking window
    bad_before = np.concatenate([[0], np.cumsum(dropped)])  # dropped characters before each position

    def clean_starts(n: int) -> np.ndarray:
        """Start positions of the n-character training windows that contain no dropped character."""
        return np.flatnonzero(bad_before[n:] - bad_before[: len(train) - n + 1] == 0)

    # Measured, not assumed: the share of validation windows found among the kept training windows.
    overlap = float(np.isin(val_windows, windows(train, LEAK_N)[clean_starts(LEAK_N)]).mean())
    overlap_before = float(np.isin(val_windows, windows(train, LEAK_N)).mean())
    # What the naive split would give: every topic in one text, its last characters held out.
    whole = encode("".join(topics[k] for k in sorted(topics)))
    naive_train, naive_val = whole[: -(n_win * T + 1)], whole[-(n_win * T + 1):]
    naive = float(np.isin(windows(naive_val, LEAK_N), windows(naive_train, LEAK_N)).mean())
    return {"chars": chars, "train": train, "val": val, "clean_starts": clean_starts, "n_win": n_win,
            "val_overlap": overlap, "val_overlap_before_cut": overlap_before, "dropped_share": float(dropped.mean()),
            "naive_overlap": naive}


def kneser_ney_probs(train: np.ndarray, clean_starts, order: int, vocab: int,
                     history: np.ndarray, target: np.ndarray) -> np.ndarray:
    """P(target | history) under an interpolated Kneser-Ney model of the given order (Chen & Goodman 1999).

    ``history`` is (N, order - 1) (the most recent character last), ``target`` is (N,). An n-gram is
    coded as one int64 (base ``vocab``) and counted with ``np.unique``; every lookup is a
    ``searchsorted`` over all N queries at once. The recursion, from order 1 up:

        P_k(w | h) = max(c_k(h w) - D_k, 0) / c_k(h ·) + D_k N1+(h ·) / c_k(h ·) · P_{k-1}(w | h'),

    where h' drops the oldest character of h, c_k are raw counts at the top order and continuation
    counts N1+(· h w) (distinct characters seen before h w) below it, D_k = n1 / (n1 + 2 n2) from the
    counts of counts, and a history never seen passes P_{k-1} through. P_1 is interpolated with the
    uniform distribution, so every character has a nonzero probability.
    """
    grams, raw, cont = [], [], []
    for k in range(1, order + 1):
        starts = clean_starts(k)
        code = np.zeros(len(starts), dtype=np.int64)
        for j in range(k):
            code = code * vocab + train[starts + j]
        g, c = np.unique(code, return_counts=True)  # sorted codes of the k-grams seen, their counts
        grams.append(g)
        raw.append(c)
    for k in range(1, order):  # continuation count of a k-gram: distinct (k+1)-grams ending with it
        suffix, n_left = np.unique(grams[k] % vocab**k, return_counts=True)
        c = np.zeros(len(grams[k - 1]), dtype=np.int64)
        c[np.searchsorted(grams[k - 1], suffix)] = n_left
        cont.append(c)

    def lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
        i = np.clip(np.searchsorted(keys, query), 0, len(keys) - 1)
        return np.where(keys[i] == query, values[i], 0)

    def discount(c: np.ndarray) -> float:
        n1, n2 = (c == 1).sum(), (c == 2).sum()
        return n1 / (n1 + 2 * n2)

    c1 = raw[0] if order == 1 else cont[0]
    D = discount(c1[c1 > 0])
    p = np.maximum(lookup(grams[0], c1, target) - D, 0) / c1.sum() + D * (c1 > 0).sum() / c1.sum() / vocab
    for k in range(2, order + 1):
        counts = raw[k - 1] if k == order else cont[k - 1]
        seen = counts > 0
        g, c = grams[k - 1][seen], counts[seen]
        D = discount(c)
        # Codes are sorted, so the k-grams of one history (code // vocab) are contiguous.
        hist_codes, first = np.unique(g // vocab, return_index=True)
        total = np.add.reduceat(c, first)  # c_k(h ·)
        types = np.diff(np.append(first, len(g)))  # N1+(h ·)
        h = np.zeros(len(target), dtype=np.int64)
        for j in range(order - k, order - 1):  # the last k - 1 characters of the history
            h = h * vocab + history[:, j]
        c_hw = lookup(g, c, h * vocab + target)
        c_h = lookup(hist_codes, total, h)
        n_h = lookup(hist_codes, types, h)
        safe = np.maximum(c_h, 1)
        p = np.where(c_h > 0, np.maximum(c_hw - D, 0) / safe + D * n_h / safe * p, p)
    return p


def ngram_baselines(split: dict, T: int) -> dict:
    """Nats/char of uniform and Kneser-Ney models on the transformer's own (context, target) pairs.

    The transformer sees its validation text in windows of T characters, so at window position j it
    has j + 1 characters of context; an n-gram model there uses the last min(n - 1, j + 1) of them.
    """
    val, n_win, vocab = split["val"], split["n_win"], len(split["chars"])
    x = val[: n_win * T].reshape(n_win, T)
    target = val[1 : n_win * T + 1]  # (N,)
    pos = np.tile(np.arange(T), n_win)  # (N,) position in the window
    out = {"uniform": math.log(vocab)}
    for name, n in NGRAM_ORDERS.items():
        padded = np.concatenate([np.zeros((n_win, n - 1), dtype=np.int64), x], axis=1)  # (n_win, n - 1 + T)
        # Window j + 1 of the padded row ends at x[j]: the n - 1 characters before target j.
        hist = (sliding_window_view(padded, n - 1, axis=1)[:, 1:].reshape(-1, n - 1) if n > 1
                else np.zeros((len(target), 0), dtype=np.int64))  # (N, n - 1)
        p = np.empty(len(target))
        for k in range(1, n + 1):  # positions with k - 1 characters of context available use order k
            use = np.minimum(pos + 2, n) == k
            p[use] = kneser_ney_probs(split["train"], split["clean_starts"], k, vocab, hist[use][:, n - k :], target[use])
        out[name] = float(-np.log(p).mean())
    return out


@torch.no_grad()
def sample(model: TinyGPT, prompt: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    idx = prompt[None, None]  # (1, 1, T0)
    for _ in range(n):
        logits = model(idx[:, :, -model.block_size:])[0, :, -1]  # (1, vocab)
        nxt = torch.multinomial(logits.softmax(-1), 1, generator=gen)
        idx = torch.cat([idx, nxt[None]], dim=2)
    return idx[0, 0, prompt.numel():]


def run_charlm(cfg: Config) -> dict:
    split = clean_split(cfg)
    chars, T, V = split["chars"], cfg.lm_context, len(split["chars"])
    train = torch.from_numpy(split["train"])
    starts = torch.from_numpy(split["clean_starts"](T + 1))  # windows of T + 1 clean characters
    val = torch.from_numpy(split["val"])
    n_win = split["n_win"]
    val_x = val[:-1].view(1, n_win, T)  # (1, n_win, T): non-overlapping windows, scored the same way every time
    val_y = val[1:].view(n_win, T)  # the character after each input character
    baselines = ngram_baselines(split, T)

    gen = torch.Generator().manual_seed(cfg.seed + 1)
    torch.manual_seed(cfg.seed + 1)
    model = TinyGPT(1, V, T, cfg.lm_d_model, cfg.lm_layers, cfg.lm_heads)
    opt = make_optimizer(model, cfg.lm_lr)
    sample_steps = set(np.linspace(0, cfg.lm_steps, cfg.n_samples + 1).round().astype(int)[1:].tolist())
    stoi = {c: i for i, c in enumerate(chars)}
    prompt = torch.tensor([stoi[c] for c in "The "])
    steps, val_loss, samples = [], [], []
    for step in range(cfg.lm_steps + 1):
        if step % cfg.lm_eval_every == 0 or step == cfg.lm_steps:
            with torch.no_grad():
                nll = sum(F.cross_entropy(model(x)[0].reshape(-1, V), y.reshape(-1), reduction="sum").item()
                          for x, y in zip(val_x.split(64, dim=1), val_y.split(64)))
            steps.append(step)
            val_loss.append(nll / val_y.numel())
        if step in sample_steps:
            out = sample(model, prompt, cfg.sample_len, torch.Generator().manual_seed(cfg.seed + step))
            samples.append({"step": step, "text": "The " + "".join(chars[i] for i in out.tolist())})
        if step == cfg.lm_steps:
            break
        start = starts[torch.randint(len(starts), (cfg.lm_batch,), generator=gen)]
        window = train[start[:, None] + torch.arange(T + 1)][None]  # (1, B, T+1)
        logits = model(window[..., :-1])  # (1, B, T, vocab)
        loss = F.cross_entropy(logits.reshape(-1, V), window[..., 1:].reshape(-1))
        opt.lr = lr_at(step, cfg.lm_steps, cfg.lm_lr, cfg.lm_decay_share)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"steps": steps, "val_loss": val_loss, "final_val_loss": val_loss[-1], "baselines": baselines,
            "samples": samples, "vocab": V, "context": T, "val_topic": cfg.lm_val_topic,
            "n_train_chars": int(len(train)), "n_val_chars": n_win * T,
            f"val_overlap_{LEAK_N}": split["val_overlap"],
            f"val_overlap_{LEAK_N}_before_cut": split["val_overlap_before_cut"],
            f"naive_split_overlap_{LEAK_N}": split["naive_overlap"],  # the last characters of all topics held out instead
            "train_share_dropped": split["dropped_share"]}


# ----------------------------------------------------------------------------------------------
# Figures.
# ----------------------------------------------------------------------------------------------


def draw_addition(theme, add: dict, narrow: bool = False):
    import matplotlib.pyplot as plt

    if narrow:
        fig, (ax,) = narrow_subplots((2.4,))
    else:
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.plot(add["steps"], add["train_acc"], color=theme.color(0), lw=2,
            label=f"training pairs ({add['n_train']:,})")
    ax.plot(add["steps"], add["heldout_acc"], color=theme.color(1), lw=2, ls="--",
            label=f"held-out pairs, never trained on ({add['n_heldout']:,})")
    ax.axhline(1e-3, color=theme.muted, lw=1, ls=":", label="chance (1 in 1000)")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("exact-match accuracy (all 3 digits)")
    ax.set_ylim(-0.02, 1.02)
    title = "2-digit addition by next-token prediction:\nunseen pairs are solved as well as trained ones"
    if narrow:
        ax.set_title(wrap(title))
        legend_below(ax)
        return fit_height(fig, [ax], (2.4,))
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=NARROW_FONT)
    return fig


def draw_addition_sweep(theme, sw: dict, narrow: bool = False):
    import matplotlib.pyplot as plt

    if narrow:
        fig, (top, bottom) = narrow_subplots((2.4, 2.4))
    else:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 7.4), gridspec_kw={"height_ratios": [1, 1]})
    for i, (f, n, curve) in enumerate(zip(sw["train_fraction"], sw["n_train"], sw["heldout_curves"])):
        top.plot(sw["steps"], curve, color=theme.color(i), lw=1.8, label=f"trained on {f:.0%} of pairs ({n:,})")
    top.set_xlabel("optimiser step")
    top.set_ylabel("held-out exact-match accuracy")
    top.set_ylim(-0.02, 1.02)
    top.set_title("Top: accuracy on pairs each model never saw, during training")
    if narrow:
        legend_below(top)
    else:
        top.legend(loc="upper left", fontsize=NARROW_FONT)

    x = np.array(sw["train_fraction"])
    bottom.plot(x, sw["train_acc"], "o-", color=theme.color(0), lw=1.6, label="training pairs (memorised or not)")
    bottom.plot(x, sw["heldout_acc"], "s--", color=theme.color(1), lw=1.6, label="held-out pairs")
    for xi, yi in zip(x, sw["heldout_acc"]):
        bottom.annotate(f"{yi:.0%}", (xi, yi), xytext=(6, -12), textcoords="offset points", fontsize=NARROW_FONT,
                        color=theme.fg)
    bottom.set_xscale("log")
    plain_log_axis(bottom.xaxis)
    bottom.set_xticks(x, [f"{v:.0%}" for v in x])
    bottom.set_xlabel("share of the 10,000 pairs used for training (log scale)")
    bottom.set_ylabel("exact-match accuracy at the end")
    bottom.set_ylim(-0.02, 1.1)
    bottom.set_title("Bottom: final accuracy against the training share")
    title = "Few pairs are memorised; enough pairs make the procedure the cheaper fit"
    if narrow:
        for ax in (top, bottom):
            ax.set_title(wrap(ax.get_title()))
        bottom.set_xlabel(wrap(bottom.get_xlabel(), NARROW_FONT, 2.9))
        legend_below(bottom)
        fig.suptitle(wrap(title, width_in=NARROW_TEXT_IN + 0.3))
        return fit_height(fig, (top, bottom), (2.4, 2.4))
    bottom.legend(loc="lower right", fontsize=NARROW_FONT)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def draw_charlm(theme, lm: dict, narrow: bool = False):
    import matplotlib.pyplot as plt

    # The samples, wrapped to the width of their panel under the plot (62 characters; a narrow figure:
    # 38, with as many characters shown: 10 lines instead of 6).
    width, most = (38, 10) if narrow else (62, 6)
    samples = []
    for s in lm["samples"]:
        lines = []
        for para in s["text"].replace("\t", " ").split("\n"):
            lines.extend(textwrap.wrap(para, width, drop_whitespace=False) or [""])
        samples.append((s["step"], [ln.rstrip() for ln in lines][:most]))
    line_pt = 1.25 * NARROW_FONT  # one line of the text (linespacing 1.25)
    text_h = sum(line_pt * (len(lines) + 1) + 6 for _, lines in samples) / 72
    if narrow:
        heights = (2.4, text_h)
        fig, (ax, tx) = narrow_subplots(heights)
    else:
        # Stacked, 6.9 in wide: a laptop's 688 px column shows it unscaled, its text at 12 px and up.
        heights = (3.2, text_h)
        fig, (ax, tx) = plt.subplots(2, 1, figsize=(6.9, sum(heights) + 2.5), layout="constrained",
                                     gridspec_kw={"height_ratios": list(heights)})
    ax.plot(lm["steps"], lm["val_loss"], color=theme.fg, lw=2.2, label=f"tiny transformer (context {lm['context']})")
    names = [("uniform", "uniform"), ("unigram", "unigram (KN)"), ("bigram", "bigram (KN)"),
             ("trigram", "trigram (KN)"), ("fivegram", "5-gram (KN)")]
    for i, (key, label) in enumerate(names):
        ax.axhline(lm["baselines"][key], color=theme.color(i), lw=1.2, ls="--", label=f"{label} {lm['baselines'][key]:.2f}")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("validation loss (nats per character)")
    ax.set_ylim(min(lm["baselines"]["fivegram"], min(lm["val_loss"])) - 0.2, lm["baselines"]["uniform"] + 0.2)
    final, tri, five = lm["final_val_loss"], lm["baselines"]["trigram"], lm["baselines"]["fivegram"]
    where = ("below the trigram" if final < tri else "above the trigram") + (
        ", below the 5-gram" if final < five else ", above the 5-gram")
    title = f"Character model on an unseen pydoc topic: {final:.2f} nats/char,\n{where} (Kneser-Ney n-grams)"
    tx.axis("off")
    from matplotlib.transforms import offset_copy

    if narrow:
        ax.set_title(wrap(title))
        ax.set_ylabel(wrap(ax.get_ylabel(), NARROW_FONT, 2.4))
        legend_below(ax)
    else:
        ax.set_title(title)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=NARROW_FONT, ncol=3)
    tx.set_title("samples after the prompt \"The \"", loc="left", fontsize=NARROW_TITLE)
    y = 0.0  # pt below the top of the samples' panel
    for step, lines in samples:
        at = offset_copy(tx.transAxes, fig=fig, y=-y, units="points")
        tx.text(0, 1, f"step {step}", color=theme.muted, fontsize=NARROW_FONT, va="top", transform=at, parse_math=False,
                in_layout=False)
        at = offset_copy(tx.transAxes, fig=fig, y=-y - line_pt, units="points")
        tx.text(0, 1, "\n".join(lines), color=theme.fg, fontsize=NARROW_FONT, family="monospace", va="top", transform=at,
                parse_math=False, linespacing=1.25, in_layout=False)  # the panel's height is made for them
        y += line_pt * (len(lines) + 1) + 6
    return fit_height(fig, (ax, tx), heights)


# ----------------------------------------------------------------------------------------------
# Headline numbers and entry point.
# ----------------------------------------------------------------------------------------------


def phenomenon(data: dict) -> list[Claim]:
    add, sw, lm = data["addition"], data["addition_sweep"], data["charlm"]
    held, train = add["final_heldout_acc"], add["final_train_acc"]
    small = int(np.argmin(sw["train_fraction"]))
    lo, hi = sw["heldout_acc"][small], max(sw["heldout_acc"])
    b = lm["baselines"]
    final = lm["final_val_loss"]
    return [
        Claim("addition: held-out exact match ≥ 0.9 and within 0.03 of training",
              f"{held:.3f} vs {train:.3f}", held >= 0.9 and held >= train - 0.03),
        Claim(f"sweep: at {sw['train_fraction'][small]:.0%} of pairs, training memorised (≥ 0.95) but held-out < 0.5",
              f"{sw['train_acc'][small]:.2f} / {lo:.2f}", sw["train_acc"][small] >= 0.95 and lo < 0.5),
        Claim("sweep: some training share reaches held-out ≥ 0.95", f"{hi:.3f}", hi >= 0.95),
        Claim(f"charlm: val_overlap_{LEAK_N} = 0 (in brackets: before the leaking windows were cut)",
              f"{lm[f'val_overlap_{LEAK_N}']:.3f} ({lm[f'val_overlap_{LEAK_N}_before_cut']:.3f})",
              lm[f"val_overlap_{LEAK_N}"] == 0, deterministic=True),  # the split is by topic, not by seed
        Claim("charlm: transformer below the KN trigram (nats/char)", f"{final:.3f} vs {b['trigram']:.3f}", final < b["trigram"]),
        Claim("charlm: transformer against the KN 5-gram (reported, not claimed)", f"{final:.3f} vs {b['fivegram']:.3f}", None),
    ]


def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    # Both models are tiny: a CPU with one thread is the intended device, so `device` is not used.
    data = {**run_addition(cfg), "charlm": run_charlm(cfg)}
    save_figure(lambda t, narrow=False: draw_addition(t, data["addition"], narrow=narrow), out_dir, "addition", narrow=True)
    save_figure(lambda t, narrow=False: draw_addition_sweep(t, data["addition_sweep"], narrow=narrow), out_dir, "addition_sweep", narrow=True)
    save_figure(lambda t, narrow=False: draw_charlm(t, data["charlm"], narrow=narrow), out_dir, "charlm", narrow=True)
    write_data(out_dir, data)
    return data


if __name__ == "__main__":
    demo_main(Config, run)
