"""Section 6, vault: a generated Obsidian vault of undated pages in nested folders, built two ways.

The vault is what users of Obsidian bring: N pages in course folders and week sub-folders (names with
spaces and accents), most without front matter, each linking a few others by file name with
``[[wikilinks]]``, with lists written directly under a line of text, single line breaks and a table,
and an ``.obsidian/app.json``. No ``nav:``: the site hook's explorer is the navigation.

(a) ``hooks``: this project's site hook (every page a node: backlinks, previews, local graph, the
    explorer, reading-view fidelity); a first build without ``.kb-cache/``, then a rebuild over it.
(b) ``plain``: the same pages for plain MkDocs, wikilinks written as Markdown links, MkDocs' own
    navigation of the folders.

Each round builds both side by side; ratios are taken within a round. Then a live preview: the hooks
variant built as ``mkdocs serve`` builds it (in this process, a dirty rebuild after each save), a line
added to one page, the time of each rebuild (the watcher and the HTTP request are not counted here;
section 4 measures them for dated notes).

``python -m bench vault [--quick]``, or ``python -m bench.vault --pages 1000``.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from pathlib import Path

import yaml

from bench.budget import Budget
from bench.common import PROJECT_ROOT, Sample, env_for, fmt_ratio, fmt_s, mkdocs_build, ratio_sample, table, tree_bytes
from bench.report import Section

GOAL_TIME = 1.3
GOAL_SAVE_S = 1.0
WORDS = ("limite", "série", "intégrale", "dérivée", "gradient", "matrice", "vecteur", "noyau", "espace", "norme",
         "convergence", "continuité", "probabilité", "variance", "entropie", "réseau", "couche", "perte", "pas", "base")


def _name(i: int) -> str:
    return f"Séance {i:04d} — {WORDS[i % len(WORDS)]}"


def _folder(i: int, per_course: int) -> str:
    course, week = divmod(i, per_course)
    return f"Cours {course:02d} d'analyse/Semaine {week // 8 + 1}"


def write_vault(root: Path, n_pages: int, variant: str, seed: int = 1) -> Path:
    """Write the vault under ``root`` (replaced if present) for ``variant`` ("hooks" or "plain"); its mkdocs.yml."""
    if root.exists():
        shutil.rmtree(root)
    docs = root / "docs"
    per_course = max(40, n_pages // 12)
    paths = [f"{_folder(i, per_course)}/{_name(i)}.md" for i in range(n_pages)]
    rng = random.Random(seed)
    (docs / ".obsidian").mkdir(parents=True)
    (docs / ".obsidian" / "app.json").write_text(json.dumps({"strictLineBreaks": False}), encoding="utf-8")
    (docs / "index.md").write_text("# Vault\n\nStart with [[" + _name(0) + "]].\n" if variant == "hooks" else
                                   f"# Vault\n\nStart with [{_name(0)}]({_quote(paths[0])}).\n", encoding="utf-8")
    for i, rel in enumerate(paths):
        targets = rng.sample(range(n_pages), k=min(4, n_pages - 1))
        links = []
        for t in targets:
            if variant == "hooks":
                links.append(f"[[{_name(t)}]]")
            else:
                links.append(f"[{_name(t)}]({_relative(rel, paths[t])})")
        front = f"---\ntags: [{WORDS[i % 7]}]\n---\n\n" if i % 3 == 0 else ""
        words = " ".join(rng.choice(WORDS) for _ in range(40))
        body = (f"{front}# {WORDS[i % len(WORDS)].capitalize()}\n\n{words}.\nSee {links[0]} and {links[1]}.\n"
                f"Points:\n- {links[2]}\n  - nested {rng.choice(WORDS)}\n- {links[3]}\n\n"
                f"| terme | sens |\n| --- | --- |\n| {rng.choice(WORDS)} | {rng.choice(WORDS)} |\n\n{words}.\n")
        path = docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    base = yaml.safe_load((PROJECT_ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    theme = dict(base["theme"])
    # What a vault's mkdocs.yml sets (README, Navigation); without prune every page carries the whole explorer.
    theme["features"] = list(theme.get("features", [])) + ["navigation.indexes", "navigation.path", "navigation.prune"]
    config = {"site_name": f"Vault ({variant})", "docs_dir": "docs", "theme": theme,
              "markdown_extensions": base["markdown_extensions"], "plugins": ["search"],
              "validation": base.get("validation", {})}
    if variant == "hooks":
        config["hooks"] = [str(PROJECT_ROOT / "hooks" / "mkdocs_site.py")]
    path = root / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path)


def _relative(from_rel: str, to_rel: str) -> str:
    import posixpath

    return _quote(posixpath.relpath(to_rel, posixpath.dirname(from_rel)))


def serve_saves(config: Path, page: Path, saves: int) -> tuple[float, Sample]:
    """The first serve build's seconds, and each save's rebuild (in this process, as `mkdocs serve` builds)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    def one(first: bool) -> float:
        cfg = load_config(str(config), site_dir=str(config.parent / "served"))
        if first:
            cfg.plugins.on_startup(command="serve", dirty=False)
        started = time.perf_counter()
        build(cfg, serve_url="http://127.0.0.1:8000/", dirty=not first)
        return time.perf_counter() - started

    first = one(True)
    out = Sample()
    try:
        for i in range(saves):
            page.write_text(page.read_text(encoding="utf-8") + f"\nOne more line, save {i}.\n", encoding="utf-8")
            time.sleep(0.01)
            out.add(one(False))
    finally:
        import sys

        for module in [m for name, m in sys.modules.items() if name.endswith("mkdocs_site.py")]:
            module.on_shutdown()
    return first, out


def run(tmp: Path, quick: bool, budget: Budget, rounds: int = 3, pages: int | None = None) -> Section:
    n = pages or (100 if quick else 1000)
    sec = Section("vault", f"6. Vault: {n:,} undated pages in nested folders")
    roots = {v: tmp / "vault" / v for v in ("hooks", "plain")}
    configs = {v: write_vault(roots[v], n, v) for v in roots}
    times = {"cold": Sample(), "hooks": Sample(), "plain": Sample()}
    sizes: dict[str, int] = {}
    env = env_for()
    for r in range(1 if quick else rounds):
        if r and not budget.fits(30):
            break
        for variant in (("cold", "hooks", "plain") if r % 2 == 0 else ("plain", "cold", "hooks")):
            site = configs["hooks" if variant == "cold" else variant]
            if variant == "cold":
                shutil.rmtree(site.parent / ".kb-cache", ignore_errors=True)
            result = mkdocs_build(site, site.parent / "site", env)
            if result.returncode != 0:
                raise RuntimeError(f"the {variant} build of the vault failed:\n{result.output[-3000:]}")
            times[variant].add(result.seconds)
            sizes[variant] = tree_bytes(site.parent / "site")
    rebuild, first = ratio_sample(times["hooks"], times["plain"]), ratio_sample(times["cold"], times["plain"])
    first_serve, saves = serve_saves(configs["hooks"], next((roots["hooks"] / "docs").rglob("Séance 0007*.md")), 3 if quick else 6)
    sec.add(__doc__.split("\n\n", 1)[1].split("\n\n``python")[0])
    sec.add(table(["build", "runs", "seconds", "÷ plain"], [
        ["(a) hooks, a rebuild", str(times["hooks"].n), fmt_s(times["hooks"]), fmt_ratio(rebuild)],
        ["(a) hooks, a first build (no .kb-cache/)", str(times["cold"].n), fmt_s(times["cold"]), fmt_ratio(first)],
        ["(b) plain MkDocs", str(times["plain"].n), fmt_s(times["plain"]), "1"],
    ]))
    sec.add(f"Site size: (a) {sizes.get('hooks', 0) / 2**20:.1f} MiB, (b) {sizes.get('plain', 0) / 2**20:.1f} MiB. "
            f"Serve: the first build {first_serve:.2f} s; a save's rebuild {fmt_s(saves)} s "
            f"({', '.join(f'{v:.2f}' for v in saves.values)}).")
    sec.goal(f"{n:,}-page vault: (a) ≤ {GOAL_TIME}× (b) in time (a rebuild)", fmt_ratio(rebuild), rebuild.median <= GOAL_TIME)
    sec.goal(f"{n:,}-page vault: a save rebuilt within {GOAL_SAVE_S:.0f} s", fmt_s(saves), saves.median <= GOAL_SAVE_S)
    return sec


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.vault", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="dl-notes-vault-"))
    try:
        print(run(tmp, args.pages <= 100, Budget(3600, "vault"), rounds=args.rounds, pages=args.pages).render())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
