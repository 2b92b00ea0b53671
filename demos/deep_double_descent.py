"""Model-wise deep double descent: test error against the width of a small CNN (Nakkiran et al. 2019).

Nakkiran, Kaplun, Bansal, Yang, Barak and Sutskever ("Deep Double Descent: Where Bigger Models and
More Data Hurt", arXiv:1912.02292) train a family of 5-layer CNNs whose four convolutions have
k, 2k, 4k and 8k channels on CIFAR-10 with label noise, without regularisation and to interpolation,
and find that test error rises as k approaches the width at which the network can just fit the noisy
training set (the interpolation threshold), peaks there, and falls again for wider networks: a
second descent, and the wider the network the better, past the peak.

This demo does the same on data it makes itself, so nothing is downloaded: images are smoothed
Gaussian noise, labelled by a random "teacher" CNN of the same family, and a share of the training
labels (``label_noise``, 15–20 % as in the paper's figures) is replaced by another class. Every
width is trained at once as one batched program: the students are channel groups of one grouped
convolutional network, each masked to its own width, so one step trains them all.

The figure should make obvious: train error reaches zero at some width (the interpolation
threshold); test error peaks near that width and falls again as the network grows.

It needs a GPU at its default size (``DEVICE = "cuda"``): the run takes minutes on one there and
hours on two CPU cores. A build without a GPU shows its last pushed run, or a placeholder.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from demos._common import NARROW_FONT, Claim, demo_main, fit_height, legend_below, narrow_subplots, save_figure, wrap, write_data

DEVICE = "cuda"
TIMEOUT_S = 1200
FIGURES = {"model_wise": "train and test error of CNNs of growing width, with the interpolation threshold marked"}
LIMITS = {"n_train": (50, 200_000), "n_test": (50, 200_000), "image": (8, 64), "classes": (2, 100),
          "label_noise": (0.0, 0.9), "steps": (1, 2_000_000), "batch": (1, 8192), "teacher_width": (1, 64)}


@dataclass
class Config:
    seed: int = 0  # random seed (data, teacher, label noise and students)
    n_train: int = 4000  # training images (their labels carry the noise)
    n_test: int = 4000  # clean test images
    image: int = 16  # images are image × image pixels with 3 channels
    classes: int = 10  # number of classes the teacher tells apart
    label_noise: float = 0.2  # share of training labels replaced by another class
    teacher_width: int = 8  # k of the teacher CNN that labels the images
    widths: str = "1,2,3,4,5,6,7,8,9,10,12,14,16,20,24,32"  # k of the students (comma-separated)
    steps: int = 40000  # Adam steps (trained to interpolation: no early stopping, no weight decay)
    batch: int = 128  # images per step
    lr: float = 1e-3  # Adam learning rate
    blur: float = 1.5  # width (pixels) of the Gaussian that smooths the images' noise


# --- data: smoothed noise, labelled by a random teacher ------------------------------------------

def make_images(n: int, cfg: Config, gen: torch.Generator) -> torch.Tensor:
    """(n, 3, S, S) images: Gaussian noise blurred by a Gaussian of ``blur`` pixels, then standardised."""
    x = torch.randn(n, 3, cfg.image, cfg.image, generator=gen)
    radius = max(1, int(math.ceil(2 * cfg.blur)))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    g = torch.exp(-0.5 * (t / max(cfg.blur, 1e-6)) ** 2)
    g = g / g.sum()
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="circular"), g.view(1, 1, 1, -1).repeat(3, 1, 1, 1), groups=3)
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="circular"), g.view(1, 1, -1, 1).repeat(3, 1, 1, 1), groups=3)
    return (x - x.mean()) / x.std()


def teacher_labels(x: torch.Tensor, cfg: Config, gen: torch.Generator) -> torch.Tensor:
    """Labels from a random CNN of the students' family (width ``teacher_width``), classes balanced."""
    net = GroupedCNN([cfg.teacher_width], cfg.classes, cfg.image, gen)
    net.eval()
    with torch.no_grad():
        logits = torch.cat([net(chunk)[:, 0] for chunk in x.split(2048)])  # (n, K)
    logits = (logits - logits.mean(0)) / logits.std(0)  # every class about as frequent
    return logits.argmax(1)


def noisy(labels: torch.Tensor, share: float, classes: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace a ``share`` of the labels by a different class, uniformly; return labels and the flipped mask."""
    flip = torch.rand(labels.shape, generator=gen) < share
    shift = torch.randint(1, classes, labels.shape, generator=gen)
    return torch.where(flip, (labels + shift) % classes, labels), flip


# --- the students: one grouped network, one masked channel group per width ----------------------

MULTIPLIERS = (1, 2, 4, 8)  # channels of the four convolutions, in units of k


class GroupedCNN(torch.nn.Module):
    """M CNNs (conv k → 2k → 4k → 8k, batch norm, ReLU, max-pool; global max-pool; linear) as one module.

    Model i has width ``widths[i]``; all are padded to the largest width and masked, so a grouped
    convolution with M groups runs them together and no model sees another's channels.
    """

    def __init__(self, widths: list[int], classes: int, image: int, gen: torch.Generator):
        super().__init__()
        self.m, self.kmax = len(widths), max(widths)
        self.convs = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        self.norms = torch.nn.ModuleList()
        masks = []
        c_in = 3
        for layer, mult in enumerate(MULTIPLIERS):
            c_out = mult * self.kmax
            per_group_in = 3 if layer == 0 else c_in
            w = torch.zeros(self.m * c_out, per_group_in, 3, 3)
            for i, k in enumerate(widths):
                real_in = 3 if layer == 0 else MULTIPLIERS[layer - 1] * k
                bound = 1 / math.sqrt(real_in * 9)  # PyTorch's default scale for a width-k network
                w[i * c_out : i * c_out + mult * k, :real_in].uniform_(-bound, bound, generator=gen)
            self.convs.append(torch.nn.Parameter(w))
            self.norms.append(torch.nn.BatchNorm2d(self.m * c_out))
            mask = torch.zeros(self.m, c_out)
            for i, k in enumerate(widths):
                mask[i, : mult * k] = 1
            masks.append(mask.view(1, -1, 1, 1))
            c_in = c_out
        for i, mask in enumerate(masks):
            self.register_buffer(f"mask{i}", mask)
        head = torch.zeros(self.m, c_in, classes)
        for i, k in enumerate(widths):
            bound = 1 / math.sqrt(8 * k)
            head[i, : 8 * k].uniform_(-bound, bound, generator=gen)
        self.head = torch.nn.Parameter(head)
        self.head_bias = torch.nn.Parameter(torch.zeros(self.m, classes))
        self.pools = (False, True, True, True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 3, S, S) -> logits (B, M, K)
        for layer, (w, norm, pool) in enumerate(zip(self.convs, self.norms, self.pools)):
            groups = 1 if layer == 0 else self.m
            if layer == 0:
                x = F.conv2d(x, w, padding=1)  # every model reads the same image
            else:
                x = F.conv2d(x, w, padding=1, groups=groups)  # (B, M·c, S, S)
            x = F.relu(norm(x)) * getattr(self, f"mask{layer}")
            if pool:
                x = F.max_pool2d(x, 2)
        x = x.amax(dim=(2, 3)).view(x.shape[0], self.m, -1)  # (B, M, 8·kmax)
        return torch.einsum("bmc,mck->bmk", x, self.head) + self.head_bias


def parameters_of(k: int, classes: int) -> int:
    """Trainable parameters of one width-k student (weights, batch-norm scales and shifts, head)."""
    total, c_in = 0, 3
    for mult in MULTIPLIERS:
        c_out = mult * k
        total += c_in * c_out * 9 + 2 * c_out
        c_in = c_out
    return total + c_in * classes + classes


def errors(net: GroupedCNN, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """Error rate of every student on (x, y), batch norm in evaluation mode."""
    net.eval()
    wrong = torch.zeros(net.m, device=x.device)
    with torch.no_grad():
        for xb, yb in zip(x.split(2048), y.split(2048)):
            wrong += (net(xb).argmax(-1) != yb[:, None]).sum(0)
    net.train()
    return (wrong / len(y)).cpu().numpy()


# --- the run ---------------------------------------------------------------------------------------

def train(cfg: Config, device: str) -> dict:
    widths = sorted({int(w) for w in cfg.widths.split(",") if w.strip()})
    gen = torch.Generator().manual_seed(cfg.seed)  # data and teacher on the CPU: the same bytes on any device
    x = make_images(cfg.n_train + cfg.n_test, cfg, gen)
    y = teacher_labels(x, cfg, gen)
    x_tr, y_clean, x_te, y_te = x[: cfg.n_train], y[: cfg.n_train], x[cfg.n_train :], y[cfg.n_train :]
    y_tr, flipped = noisy(y_clean, cfg.label_noise, cfg.classes, gen)
    net = GroupedCNN(widths, cfg.classes, cfg.image, gen).to(device)
    x_tr, y_tr, x_te, y_te = x_tr.to(device), y_tr.to(device), x_te.to(device), y_te.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    batches = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
    checkpoints = sorted({int(cfg.steps * f) for f in (0.05, 0.1, 0.2, 0.4, 0.7, 1.0)})
    curve = []
    started = time.perf_counter()
    for step in range(1, cfg.steps + 1):
        idx = torch.randint(0, cfg.n_train, (cfg.batch,), generator=batches).to(device)
        logits = net(x_tr[idx])  # (B, M, K)
        # Sum over students of each one's mean loss: their gradients do not mix.
        loss = F.cross_entropy(logits.permute(0, 2, 1), y_tr[idx][:, None].expand(-1, net.m), reduction="none").mean(0).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step in checkpoints:
            curve.append({"step": step, "train_error": errors(net, x_tr, y_tr).tolist(), "test_error": errors(net, x_te, y_te).tolist()})
    train_err, test_err = np.array(curve[-1]["train_error"]), np.array(curve[-1]["test_error"])
    fits = [w for w, e in zip(widths, train_err) if e <= 0.01]
    return {
        "widths": widths,
        "parameters": [parameters_of(k, cfg.classes) for k in widths],
        "train_error": train_err.tolist(),
        "test_error": test_err.tolist(),
        "interpolation_width": fits[0] if fits else None,  # the narrowest student that fits the noisy labels
        "peak_width": widths[int(np.argmax(test_err))],
        "label_noise_measured": float(flipped.float().mean()),
        "n_train": cfg.n_train,
        "curve": curve,
        "train_seconds": time.perf_counter() - started,
    }


def phenomenon(data: dict) -> list[Claim]:
    """Model-wise double descent: the test error peaks near the interpolation threshold and falls past it."""
    widths, test = np.array(data["widths"]), np.array(data["test_error"])
    peak = int(np.argmax(test))
    interp = data["interpolation_width"]
    below = test[:peak]
    near = interp is not None and abs(int(np.searchsorted(widths, interp)) - peak) <= 2
    return [
        Claim("the widest students fit the noisy training labels (train error ≤ 1 %)",
              f"{data['train_error'][-1]:.3f}", bool(data["train_error"][-1] <= 0.01)),
        Claim("test error peaks within two widths of the interpolation threshold",
              f"peak k = {widths[peak]}, threshold k = {interp}", bool(near)),
        Claim("narrower students against the peak (reported: at small sizes the narrowest are near chance)",
              f"{below.min():.3f} vs {test[peak]:.3f}" if len(below) else "none", None),
        Claim("a second descent: the widest student is better than the peak by 3 points",
              f"{test[-1]:.3f} vs {test[peak]:.3f}", bool(test[-1] < test[peak] - 0.03)),
    ]


def draw_model_wise(theme, data: dict, narrow: bool = False):
    import matplotlib.pyplot as plt

    if narrow:
        fig, (ax,) = narrow_subplots((2.4,))
    else:
        fig, ax = plt.subplots(figsize=(7.0, 4.2))
    widths = data["widths"]
    ax.plot(widths, data["test_error"], marker="o", color=theme.color(0), label="test error (clean labels)")
    ax.plot(widths, data["train_error"], marker="s", color=theme.color(1), label="train error (noisy labels)")
    if data["interpolation_width"] is not None:  # no room beside the line, over the peak: the legend names it
        ax.axvline(data["interpolation_width"], color=theme.muted, linestyle="--", linewidth=1,
                   label=f"interpolation threshold (k = {data['interpolation_width']:g})")
    ax.set_xscale("log", base=2)
    ax.set_xticks(widths[:: max(1, len(widths) // 8)])
    ax.get_xaxis().set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("CNN width k (channels of the first convolution)")
    ax.set_ylabel("error")
    title = f"Model-wise double descent, {data['label_noise_measured']:.0%} label noise, n = {data['n_train']}"
    if narrow:
        ax.set_title(wrap(title))
        ax.set_xlabel(wrap(ax.get_xlabel(), NARROW_FONT, 2.9))
        legend_below(ax)
        ax.grid(True, alpha=0.5)
        return fit_height(fig, [ax], (2.4,))
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=NARROW_FONT, frameon=False)  # under the axes
    ax.grid(True, alpha=0.5)
    return fig


def run(cfg: Config, out_dir: Path, device: str = "cuda") -> dict:
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    data = train(cfg, device)
    save_figure(lambda t, narrow=False: draw_model_wise(t, data, narrow=narrow), out_dir, "model_wise", narrow=True)
    write_data(out_dir, {"model_wise": data})
    return data


if __name__ == "__main__":
    demo_main(Config, run)
