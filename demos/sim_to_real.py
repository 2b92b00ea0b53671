"""Sim-to-real: a policy trained in one simulator meets a world whose physics differs.

The world is a puck on a floor. A policy chooses one impulse J (N·s) that sets the puck sliding with
speed J/m; Coulomb friction (μ m g) and a small, known viscous drag (b v) stop it. The task is to stop
the puck at a target distance D between 0.5 and 2 m. The simulator is written in torch and
differentiable: semi-implicit Euler steps ``v <- max(v - dt (μ g + b v / m), 0)``, ``x <- x + dt v``.
The clamp at zero is how Coulomb friction stops a puck instead of pushing it backwards; it is smooth
while the puck moves, so the gradient of the final position with respect to J flows back through
every step of motion. Policies are small MLPs trained by backpropagation *through the simulator*
(no reinforcement-learning estimator is needed when the simulator is differentiable). The loss is the
squared relative error of the final position, ``((x_T - D) / D)²``.

Three policies, trained side by side as one batched tensor program:

* **nominal**: trained on the nominal mass m₀ and friction coefficient μ₀ only; it sees D.
* **randomized** (domain randomisation with a probe): trained on masses and friction coefficients
  drawn log-uniformly within a factor ``rand_range`` of nominal (Tobin et al. 2017, "Domain
  randomization for transferring deep neural networks from simulation to the real world",
  arXiv 1703.06907; Peng et al. 2018, "Sim-to-real transfer of robotic control with dynamics
  randomization", arXiv 1710.06537). Before acting it gives the puck a standard test push and observes how
  far it slides: identification of the dynamics by interaction. The policy sees D and that distance.
* **randomized_no_probe**: the same randomisation, but the policy sees only D. It cannot tell which
  world it is in, so the best it can learn is one compromise impulse per D for all of them: with a
  squared loss it pushes softer than nominal, because overshooting on a light, slippery floor costs
  more than undershooting on a heavy, rough one.

The "real" worlds differ from the simulator in two ways. **Parameters**: they lie on rings around
the nominal one: at mismatch level k, mass and friction coefficient are each scaled by k, 1 or 1/k
in the 8 combinations other than (1, 1): heavier or lighter, rougher or slicker, or both, in every
pairing. Levels run from 1 (nominal) past the edge of the randomisation range. **Unmodelled
dynamics**: the real worlds are stepped with a time step ``real_dt_div`` (10) times finer, i.e. they
are closer to the continuous physics than the simulator. A semi-implicit Euler step moves the puck
with its end-of-step speed, so the coarse simulator stops every puck a little short, by a fraction
that depends on the push; no randomisation of mass and friction covers that. The probe push is made
in the real world too, so the probing policy reads a slightly wrong distance. Every policy is scored
by its relative final-position error |x - D| / D, averaged over a grid of targets, in every world;
all worlds and targets are simulated at once, as one tensor of parameter settings.

**transfer** should make obvious that the nominal policy is accurate in its own simulator (default
run: 1.0% error; the probing policy 0.5%) but not exact even in the real world with the same mass and
friction (5.2%; the probing policy 1.3%), and that it degrades fast with mismatch; the randomised
policy with a probe stays accurate across the whole randomisation range on average (each level's mean
error a few percent) though not in every world (the worst world at the range's edge is off by about
15%: ``policies.randomized.inside_range`` in the data has the mean, the largest level mean and the
worst world inside the range, per policy), and degrades outside it; the
randomised policy without a probe is a compromise: clearly worse than nominal in the nominal world,
clearly better than nominal far from it, and unable to adapt to any one world. Dotted lines show the
same worlds at the simulator's own time step: the gap between dotted and solid is the unmodelled
dynamics. **trajectories** shows the puck's position over time in two real worlds (lighter and
slicker; heavier and rougher) for the three policies, against the target: overshoot and undershoot
are the two ways a push that ignores the world goes wrong.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from demos._common import (NARROW_FONT, NARROW_TEXT_IN, AdamW, Claim, demo_main, fit_height, legend_below, narrow_subplots,
                           plain_log_axis, save_figure, to_plain, wrap, write_data)


@dataclass
class Config:
    seed: int = 0  # seeds the policies' initial weights and the training draws
    mass: float = 1.0  # nominal mass m₀ (kg)
    friction: float = 0.3  # nominal Coulomb friction coefficient μ₀
    drag: float = 0.3  # viscous drag b (N·s/m), the same in every world
    dt: float = 0.04  # simulator time step (s)
    real_dt_div: int = 10  # the "real" worlds are stepped with dt / real_dt_div: dynamics the simulator lacks
    train_steps: int = 100  # simulated steps per training episode (4 s at dt = 0.04)
    eval_steps: int = 200  # simulated steps per evaluation episode (long enough for every puck to stop)
    probe_impulse: float = 2.0  # impulse of the test push (N·s)
    probe_steps: int = 100  # simulated steps of the test push
    d_min: float = 0.5  # nearest target distance (m)
    d_max: float = 2.0  # farthest target distance (m)
    rand_range: float = 2.0  # randomised mass and friction lie within this factor of nominal (log-uniform)
    beyond: float = 1.5  # real mismatch reaches this multiple of the randomisation range (log scale)
    n_levels: int = 7  # mismatch levels from nominal to `beyond` (7 puts one on the range's edge)
    n_targets: int = 16  # target distances per real world in the evaluation
    hidden: int = 32  # hidden units per layer of each policy MLP
    iters: int = 300  # Adam steps
    batch: int = 256  # episodes per policy per step
    lr: float = 0.03  # Adam learning rate (cosine-decayed to 0)
    traj_mismatch: float = 0.75  # trajectories figure: worlds at ± this share of the randomisation range
    traj_target: float = 1.5  # trajectories figure: target distance (m)


FIGURES = {
    "transfer": "Relative final-position error in real worlds vs mass/friction mismatch for the three policies",
    "trajectories": "Puck position vs time in two real worlds for the three policies, against the target",
}

POLICIES = ("nominal", "randomized", "randomized_no_probe")
LABELS = {
    "nominal": "trained on nominal only",
    "randomized": "randomised + probe",
    "randomized_no_probe": "randomised, no probe",
}
G = 9.81  # m/s²


# ----------------------------------------------------------------------------------------------
# The differentiable simulator: any batch shape of (impulse, mass, friction) at once.
# ----------------------------------------------------------------------------------------------


def simulate(cfg: Config, impulse, mass, friction, steps: int, dt: float, record: bool = False):
    """Final position (and optionally the whole path) of pucks given an impulse at rest at x = 0.

    ``impulse``, ``mass`` and ``friction`` broadcast to one shape S; returns x of shape S, or
    (x, path) with path of shape (steps + 1, *S). The simulator the policies train in uses
    ``dt = cfg.dt``; the "real" worlds are the same equations stepped with a finer dt.
    """
    v = impulse / mass  # (S) speed right after the push
    x = torch.zeros_like(v)
    # v - dt (μ g + b v / m) = v (1 - dt b / m) - dt μ g: two per-world constants, computed once,
    # keep each step at four tensor operations (the simulator's cost is the number of operations).
    keep = 1 - dt * cfg.drag / mass
    brake = dt * G * friction
    path = [x]
    for step in range(steps):
        # Semi-implicit Euler: the new speed first, then the position moves with it. The clamp at 0
        # is Coulomb friction stopping the puck (it never reverses it).
        v = torch.relu(v * keep - brake)
        x = x + dt * v
        if record:
            path.append(x)
        elif step % 10 == 9 and not bool(v.any()):
            break  # every puck has stopped: the remaining steps would change nothing
    return (x, torch.stack(path)) if record else x


@torch.no_grad()
def probe_feature(cfg: Config, mass, friction, dt: float):
    """How far a standard test push slides the puck, relative to the nominal world, on a log scale.

    An observation made before acting, in the world the policy acts in (stepped with ``dt``), and
    compared with the reading the policy learnt in the nominal simulator. No gradient flows into it.
    """
    nominal = simulate(cfg, torch.tensor(cfg.probe_impulse), torch.tensor(cfg.mass), torch.tensor(cfg.friction),
                       cfg.probe_steps, cfg.dt)
    sub = round(cfg.dt / dt)  # the same duration of sliding in finer steps
    d = simulate(cfg, torch.full_like(mass, cfg.probe_impulse), mass, friction, cfg.probe_steps * sub, dt)
    return torch.log(d / nominal)


# ----------------------------------------------------------------------------------------------
# Three policy MLPs as one batched program: weights carry a leading policy axis of size 3.
# ----------------------------------------------------------------------------------------------


def init_policies(cfg: Config, gen: torch.Generator) -> list[torch.Tensor]:
    h, k = cfg.hidden, len(POLICIES)

    def layer(n_in: int, n_out: int, gain: float = 1.0):
        w = gain * torch.randn(k, n_in, n_out, generator=gen) / math.sqrt(n_in)  # (3, in, out)
        return w.requires_grad_(), torch.zeros(k, 1, n_out, requires_grad=True)  # bias (3, 1, out)

    # A small output layer and a zero linear skip: every policy starts at one sane push for all D.
    params = [*layer(2, h), *layer(h, h), *layer(h, 1, gain=0.1), torch.zeros(k, 2, 1, requires_grad=True)]
    with torch.no_grad():
        params[5].fill_(math.log(cfg.mass * math.sqrt(2 * cfg.friction * G)))  # output bias: J for D ≈ 1 m
    return params


def policy_impulse(params: list[torch.Tensor], target: torch.Tensor, probe: torch.Tensor) -> torch.Tensor:
    """Impulse J (3, B) for targets (3, B) and probe readings (3, B); only policy 1 sees the probe."""
    w1, b1, w2, b2, w3, b3, skip = params
    sees_probe = torch.tensor([0.0, 1.0, 0.0]).view(3, 1)  # nominal, randomized, randomized_no_probe
    # Log scales: for Coulomb friction alone, log J = const + (log D - log probe) / 2 exactly, so a
    # linear skip from the features does most of the work and the MLP learns the corrections (drag).
    feats = torch.stack([torch.log(target), 0.5 * probe * sees_probe], dim=-1)  # (3, B, 2), order 1
    z = torch.tanh(torch.baddbmm(b1, feats, w1))  # (3, B, H)
    z = torch.tanh(torch.baddbmm(b2, z, w2))  # (3, B, H)
    log_j = torch.baddbmm(b3, z, w3) + torch.bmm(feats, skip)  # (3, B, 1)
    return torch.exp(log_j.squeeze(-1))  # (3, B); exp keeps J > 0 and makes errors relative


def sample_worlds(cfg: Config, batch: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Mass and friction (3, B): nominal for policy 0, log-uniform within rand_range for policies 1, 2."""
    span = math.log(cfg.rand_range)
    u = (torch.rand(2, len(POLICIES), batch, generator=gen) * 2 - 1) * span  # (2, 3, B) log-factors
    u[:, 0] = 0.0
    return cfg.mass * torch.exp(u[0]), cfg.friction * torch.exp(u[1])


def train(cfg: Config, gen: torch.Generator) -> tuple[list[torch.Tensor], list[list[float]]]:
    """Train the three policies together; returns their parameters and each one's loss per step."""
    params = init_policies(cfg, gen)
    opt = AdamW(params, cfg.lr)  # Adam (no weight decay), the learning rate cosine-decayed to 0
    losses = []
    for it in range(cfg.iters):
        mass, friction = sample_worlds(cfg, cfg.batch, gen)  # (3, B)
        target = cfg.d_min + (cfg.d_max - cfg.d_min) * torch.rand(len(POLICIES), cfg.batch, generator=gen)
        probe = probe_feature(cfg, mass, friction, cfg.dt)  # (3, B)
        x = simulate(cfg, policy_impulse(params, target, probe), mass, friction, cfg.train_steps, cfg.dt)  # (3, B)
        per_policy = (((x - target) / target) ** 2).mean(dim=1)  # (3,) each policy's own loss
        opt.lr = cfg.lr * 0.5 * (1 + math.cos(math.pi * it / cfg.iters))
        opt.zero_grad()
        per_policy.sum().backward()  # the three losses share no parameters: summing trains each alone
        opt.step()
        losses.append(per_policy.detach())
    return params, torch.stack(losses).T.tolist()


# ----------------------------------------------------------------------------------------------
# Evaluation in the "real" worlds.
# ----------------------------------------------------------------------------------------------


DIRECTIONS = torch.tensor([[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]], dtype=torch.float32)


def real_worlds(cfg: Config) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Log-factors (W, 2) of mass and friction of every world, its level index (W,) and the levels.

    Level 0 is the nominal world; level j > 0 is a ring of 8 worlds whose largest log-factor is s_j.
    """
    levels = torch.linspace(0.0, cfg.beyond, cfg.n_levels, dtype=torch.float64).float() * math.log(cfg.rand_range)
    logs = [torch.zeros(1, 2)] + [lv * DIRECTIONS for lv in levels[1:]]  # (1, 2), then (8, 2) per ring
    level_of = [0] + [j for j in range(1, cfg.n_levels) for _ in range(len(DIRECTIONS))]
    return torch.cat(logs), torch.tensor(level_of), levels


@torch.no_grad()
def evaluate(cfg: Config, params: list[torch.Tensor], log_factors: torch.Tensor, dt: float) -> dict:
    """Relative final-position error (3, W) of every policy in every world, averaged over targets.

    ``dt = cfg.dt``: parameter mismatch only; a finer dt adds dynamics the simulator does not model.
    """
    targets = torch.linspace(cfg.d_min, cfg.d_max, cfg.n_targets)  # (T,)
    W, T = len(log_factors), len(targets)
    mass = (cfg.mass * torch.exp(log_factors[:, 0])).repeat_interleave(T).expand(3, W * T)  # (3, W*T)
    friction = (cfg.friction * torch.exp(log_factors[:, 1])).repeat_interleave(T).expand(3, W * T)
    target = targets.repeat(W).expand(3, W * T)  # (3, W*T)
    probe = probe_feature(cfg, mass, friction, dt)
    impulse = policy_impulse(params, target, probe)
    sub = round(cfg.dt / dt)
    x, path = simulate(cfg, impulse, mass, friction, cfg.eval_steps * sub, dt, record=True)  # x (3, W*T)
    stopped = bool((path[-1] == path[-2]).all())  # the horizon was long enough for every puck
    signed = ((x - target) / target).view(3, W, T)  # > 0 overshoots
    return {"errors": signed.abs().mean(dim=2), "bias": signed.mean(dim=2), "all_stopped": stopped}


@torch.no_grad()
def trajectories(cfg: Config, params: list[torch.Tensor]) -> dict:
    s = torch.tensor([-1.0, 1.0]) * cfg.traj_mismatch * math.log(cfg.rand_range)  # (2,) two real worlds
    mass = (cfg.mass * torch.exp(s)).expand(3, 2)  # (3, 2)
    friction = (cfg.friction * torch.exp(s)).expand(3, 2)
    target = torch.full((3, 2), cfg.traj_target)
    dt = cfg.dt / cfg.real_dt_div  # the real worlds: parameter mismatch and the finer time step
    impulse = policy_impulse(params, target, probe_feature(cfg, mass, friction, dt))
    _, path = simulate(cfg, impulse, mass, friction, cfg.eval_steps * cfg.real_dt_div, dt, record=True)
    path = path[:: cfg.real_dt_div]  # (eval_steps + 1, 3, 2): one point per simulator step is enough to draw
    return {
        "mismatch": s,
        "factor": torch.exp(s),
        "time": torch.arange(cfg.eval_steps + 1) * cfg.dt,
        "position": {p: path[:, i, :].T for i, p in enumerate(POLICIES)},  # each (2, steps+1)
        "impulse": {p: impulse[i] for i, p in enumerate(POLICIES)},
    }


# ----------------------------------------------------------------------------------------------
# Figures.
# ----------------------------------------------------------------------------------------------


def draw_transfer(theme, data: dict, narrow: bool = False):
    import matplotlib.pyplot as plt

    if narrow:
        fig, (ax,) = narrow_subplots((2.8,))
    else:
        fig, ax = plt.subplots(figsize=(6.9, 5.6))  # a laptop's 688 px column shows it unscaled
    level = np.array(data["level_factor"])
    r, div = data["rand_range"], data["real_dt_div"]
    ax.axvspan(1, r, color=theme.muted, alpha=0.13, lw=0, label=f"randomisation range (up to ×{r:g} or ×1/{r:g})")
    for i, p in enumerate(POLICIES):
        by, sim = data["policies"][p]["by_level"], data["policies"][p]["by_level_params_only"]
        ax.fill_between(level, by["min"], by["max"], color=theme.color(i), alpha=0.15, lw=0)
        ax.plot(level, by["mean"], "o-", ms=4, color=theme.color(i), label=LABELS[p])
        ax.plot(level, sim["mean"], ":", lw=1.3, color=theme.color(i))
    ax.plot([], [], ":", lw=1.3, color=theme.fg, label="same worlds at the simulator's dt (no dt gap)")
    ax.set_xscale("log")  # the levels are evenly spaced in log k
    ax.set_xticks(level)
    ax.set_xticklabels([f"{k:.2g}" for k in level])
    ax.minorticks_off()
    ax.set_yscale("log")
    ax.set_xlabel("mismatch level k: real mass and friction each ×k, ×1 or ×1/k (8 worlds per level)")
    ax.set_ylabel("relative final-position error |x − D| / D")
    note = f"solid: real worlds, stepped with dt/{div}; band: best to worst world"
    nom, rng = data["policies"]["nominal"], data["policies"]["randomized"]["inside_range"]
    title = (f"Trained on nominal only: {nom['sim_error']:.1%} error in its own simulator, "
             f"{nom['by_level']['mean'][0]:.1%} in the real\nworld of the same mass and friction (a finer time step), "
             f"then fast growth; randomised + probe: level means ≤ {rng['level_mean_max']:.1%}\n"
             f"across its range (worst world {rng['worst']:.1%}); without the probe: one compromise for every world")
    plain_log_axis(ax.yaxis)  # 0.01, 0.1: no superscripts smaller than the smallest font
    if narrow:  # the note heads the legend, under the axes
        ax.set_xlabel(wrap(ax.get_xlabel(), NARROW_FONT, 2.9))
        ax.set_ylabel(wrap(ax.get_ylabel(), NARROW_FONT, 2.8))
        legend_below(ax, title=wrap(note, NARROW_FONT), alignment="left")
        ax.set_title(wrap(title))
        return fit_height(fig, [ax], (2.8,))
    ax.text(0.99, 0.02, note, transform=ax.transAxes, fontsize=NARROW_FONT, color=theme.muted, ha="right", va="bottom")
    ax.set_xlabel(wrap(ax.get_xlabel(), 10, 6.0))
    ax.legend(fontsize=NARROW_FONT, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    ax.set_ylim(bottom=ax.get_ylim()[0] / 3)  # room for the note below the curves
    ax.set_title(wrap(title, 10, 6.4), fontsize=10)
    fig.tight_layout()
    return fig


def draw_trajectories(theme, data: dict, narrow: bool = False):
    import matplotlib.pyplot as plt

    tr = data["trajectories"]
    if narrow:
        fig, axes = narrow_subplots((2.2, 2.2), sharey=True)  # stacked
    else:
        fig, axes = plt.subplots(1, 2, figsize=(6.9, 4.6), sharey=True)  # a laptop's 688 px column shows it unscaled
    t = np.array(tr["time"])
    for j, ax in enumerate(axes):
        for i, p in enumerate(POLICIES):
            ax.plot(t, tr["position"][p][j], color=theme.color(i), label=LABELS[p])
        ax.axhline(data["traj_target"], color=theme.fg, ls="--", lw=1, label="target D")
        f = tr["factor"][j]
        kind = "lighter and slicker" if f < 1 else "heavier and rougher"
        ax.set_title(f"Real world: mass and friction ×{f:.2f} ({kind})")
        ax.set_xlabel("time (s)")
        last_move = max(int(np.argmax(np.array(tr["position"][p][j]) >= tr["position"][p][j][-1] - 1e-6))
                        for p in POLICIES)
        ax.set_xlim(0, min(t[-1], t[last_move] * 1.25 + 0.2))
    axes[0].set_ylabel("puck position x (m)")
    title = (f"One push, then physics (real worlds, stepped with dt/{data['real_dt_div']}): only the policy "
             "that probed the world first stops near the target")
    if narrow:
        for ax in axes:
            ax.set_title(wrap(ax.get_title()))
            ax.set_ylabel("puck position x (m)")
        legend_below(axes[1])
        fig.suptitle(wrap(title, width_in=NARROW_TEXT_IN + 0.3))
        return fit_height(fig, axes, (2.2, 2.2))
    axes[1].legend(fontsize=NARROW_FONT, loc="upper right")  # the right panel's curves stay low: room above them
    for ax in axes:
        ax.set_title(wrap(ax.get_title(), 10, 3.0), fontsize=10)
    fig.suptitle(wrap(title, 11, 6.6), fontsize=11)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------


def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    # A few hundred scalar pucks per step: the CPU is the right device whatever is passed.
    gen = torch.Generator().manual_seed(cfg.seed)
    params, losses = train(cfg, gen)
    log_factors, level_of, levels = real_worlds(cfg)
    ev_sim = evaluate(cfg, params, log_factors, cfg.dt)  # parameter mismatch only
    ev = evaluate(cfg, params, log_factors, cfg.dt / cfg.real_dt_div)  # the real worlds: and a finer dt

    def by_level(err: torch.Tensor) -> dict:
        groups = [err[level_of == j] for j in range(cfg.n_levels)]
        return {"mean": [g.mean() for g in groups], "min": [g.min() for g in groups], "max": [g.max() for g in groups]}

    inside_levels = levels <= math.log(cfg.rand_range) + 1e-6  # (L,) levels within the randomisation range
    inside = inside_levels[level_of]  # (W,) worlds on those levels (the nominal world and the rings up to the edge)

    def inside_range(err: torch.Tensor) -> dict:
        """The real worlds inside the randomisation range: the mean error over all of them, the largest
        level mean (the level means are what the figure's line shows), and the single worst world."""
        e = err[inside]
        worst = int(torch.nonzero(inside)[int(e.argmax())])
        level_means = [err[level_of == j].mean() for j in range(cfg.n_levels) if bool(inside_levels[j])]
        return {
            "mean": e.mean(),
            "level_mean_max": max(level_means),
            "worst": e.max(),
            "worst_world": {"mass": round(cfg.mass * math.exp(log_factors[worst, 0]), 6),  # float32 log factors: 6 digits
                            "friction": round(cfg.friction * math.exp(log_factors[worst, 1]), 6),
                            "level_factor": round(math.exp(levels[level_of[worst]]), 6)},
            "worlds": int(inside.sum()),
        }

    data = {
        "rand_range": cfg.rand_range,
        "real_dt_div": cfg.real_dt_div,
        "nominal": {"mass": cfg.mass, "friction": cfg.friction},
        "real_params": [{"mass": cfg.mass * math.exp(a), "friction": cfg.friction * math.exp(b)}
                        for a, b in log_factors.tolist()],
        "real_level": level_of,  # which mismatch level each real world belongs to
        "real_mismatch": log_factors.abs().amax(dim=1),  # largest |log factor| of each world
        "level_mismatch": levels,  # log k of each level
        "level_factor": torch.exp(levels),  # k of each level
        "level_inside_range": inside_levels,
        "policies": {
            p: {
                "sim_error": ev_sim["errors"][i, 0],  # nominal parameters, simulator's dt: the training world
                "real_errors": ev["errors"][i],  # one per real world (finer dt)
                "real_bias": ev["bias"][i],  # signed mean: > 0 overshoots
                "by_level": by_level(ev["errors"][i]),  # real worlds: mismatch and unmodelled dynamics
                "by_level_params_only": by_level(ev_sim["errors"][i]),  # the same worlds at the simulator's dt
                "inside_range": inside_range(ev["errors"][i]),  # real worlds within the randomisation range
                "final_train_loss": float(np.mean(losses[i][-20:])),
            }
            for i, p in enumerate(POLICIES)
        },
        "all_stopped": ev["all_stopped"] and ev_sim["all_stopped"],
        "traj_target": cfg.traj_target,
        "trajectories": trajectories(cfg, params),
    }
    data = to_plain(data)  # floats and lists: the figures and the tests read the same numbers as data.json
    save_figure(lambda t, narrow=False: draw_transfer(t, data, narrow=narrow), out_dir, "transfer", narrow=True)
    save_figure(lambda t, narrow=False: draw_trajectories(t, data, narrow=narrow), out_dir, "trajectories", narrow=True)
    write_data(out_dir, data)
    return data


def phenomenon(data: dict) -> list[Claim]:
    pol = data["policies"]
    mean = {p: v["by_level"]["mean"] for p, v in pol.items()}
    worst = {p: v["by_level"]["max"] for p, v in pol.items()}
    edge = max(j for j, ok in enumerate(data["level_inside_range"]) if ok)
    nom, probe, blind = mean["nominal"], mean["randomized"], mean["randomized_no_probe"]
    sim = {p: v["sim_error"] for p, v in pol.items()}
    k = data["level_factor"][edge]
    rng = {p: v["inside_range"] for p, v in pol.items()}
    return [
        Claim("in the training simulator (k = 1): nominal and probe policies within 5%",
              f"{sim['nominal']:.3f} / {sim['randomized']:.3f}", sim["nominal"] < 0.05 and sim["randomized"] < 0.05),
        Claim(f"finer dt (÷{data['real_dt_div']}) at k = 1 raises the nominal policy's error (structural gap)",
              f"{sim['nominal']:.3f} → {nom[0]:.3f}", nom[0] > 1.5 * sim["nominal"]),
        Claim("real worlds: the nominal policy's error grows with the mismatch, level after level",
              " < ".join(f"{v:.2f}" for v in nom), all(a < b for a, b in zip(nom, nom[1:]))),
        Claim(f"at the range edge (k = {k:.0f}): probe policy ≥ 5× better than nominal and than no-probe (mean)",
              f"{probe[edge]:.3f} vs {nom[edge]:.3f} / {blind[edge]:.3f}",
              probe[edge] < nom[edge] / 5 and probe[edge] < blind[edge] / 5),
        Claim("at the range edge: probe policy ≥ 3× better in its worst world",
              f"{worst['randomized'][edge]:.3f} vs {worst['nominal'][edge]:.3f} / {worst['randomized_no_probe'][edge]:.3f}",
              worst["randomized"][edge] < worst["nominal"][edge] / 3 and worst["randomized"][edge] < worst["randomized_no_probe"][edge] / 3),
        Claim("probe policy: mean error < 10% at every level inside the range", f"{max(probe[: edge + 1]):.3f}",
              max(probe[: edge + 1]) < 0.1),
        Claim("inside the range, every world: mean error (worst world) of nominal / probe / no-probe (reported)",
              " / ".join(f"{rng[p]['mean']:.3f} ({rng[p]['worst']:.3f})" for p in POLICIES), None),
        Claim("no probe: a compromise, ≥ 3× worse than nominal at k = 1, ≤ 0.8× nominal at the edge",
              f"{blind[0]:.3f} vs {nom[0]:.3f}; {blind[edge]:.3f} vs {nom[edge]:.3f}",
              blind[0] > 3 * nom[0] and blind[edge] < 0.8 * nom[edge]),
        Claim("every puck stopped within the evaluation horizon", str(data["all_stopped"]), bool(data["all_stopped"])),
    ]


if __name__ == "__main__":
    demo_main(Config, run)
