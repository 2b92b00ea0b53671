"""`notes demos` on the fake demos: same planner and cache as the build, exit codes, no torch; a demo's own `--set` refuses what the build refuses."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "demo_project"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(FIXTURE, root)
    (root / "mkdocs.yml").write_text(
        f"site_name: T\nhooks: [{REPO}/hooks/mkdocs_site.py, {REPO}/hooks/mkdocs_demos.py]\n"
        "extra:\n  demos:\n    cache_dir: .cache/demos\n    timeout: 30\n"
    )
    return root


def notes(root: Path, *args: str) -> subprocess.CompletedProcess:
    code = "import sys; from hooks.cli.main import main; rc = main(sys.argv[1:]); print('torch imported:', 'torch' in sys.modules); sys.exit(rc)"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=root, capture_output=True, text=True, timeout=120)


def test_runs_named_demos_then_finds_them_cached(project: Path) -> None:
    first = notes(project, "demos", "ok", "standalone")
    assert first.returncode == 0, first.stderr
    assert "3 demo runs: 3 ran, 0 cached, 0 failed" in first.stdout  # ok default, ok as the page uses it, standalone
    again = notes(project, "demos", "ok", "standalone")
    assert again.returncode == 0
    assert "3 demo runs: 0 ran, 3 cached, 0 failed" in again.stdout
    assert "torch imported: False" in again.stdout
    forced = notes(project, "demos", "standalone", "--force", "--jobs", "1")
    assert "1 demo runs: 1 ran, 0 cached, 0 failed" in forced.stdout


def test_exits_non_zero_naming_the_failed_demo(project: Path) -> None:
    proc = notes(project, "demos", "fails", "ok")
    assert proc.returncode == 1
    assert "FAILED  fails [default]: ValueError: the loss diverged at step 7" in proc.stdout
    assert "demo 'fails' failed" in proc.stderr
    assert "ran     ok [default]" in proc.stdout


def test_an_unknown_or_escaping_name_is_refused(project: Path) -> None:
    proc = notes(project, "demos", "../secrets")
    assert proc.returncode == 2
    assert "'../secrets' is not a demo name" in proc.stderr
    proc = notes(project, "demos", "nope")
    assert proc.returncode == 2 and "unknown demo 'nope'" in proc.stderr


LIMITED_DEMO = '''"""Declares limits; never gets as far as running."""
from __future__ import annotations

from dataclasses import dataclass

from demos._common import demo_main


@dataclass
class Config:
    seed: int = 0  # random seed
    n: int = 10  # a count
    rate: float = 0.5  # a rate


FIGURES = {"main": "nothing"}
LIMITS = {"n": (1, 100), "rate": (0.0, None)}


def run(cfg: Config, out_dir, device: str = "cpu") -> dict:
    raise SystemExit(f"ran with n={cfg.n!r} rate={cfg.rate!r}")


if __name__ == "__main__":
    demo_main(Config, run)
'''


def _limited_demo(root: Path, *overrides: str) -> subprocess.CompletedProcess:
    """``python -m demos.limited --set ...`` in a project at ``root`` that holds the demo and demos/_common.py."""
    demos = root / "demos"
    demos.mkdir(exist_ok=True)
    (demos / "__init__.py").write_text("")
    shutil.copyfile(REPO / "demos" / "_common.py", demos / "_common.py")
    (demos / "limited.py").write_text(LIMITED_DEMO)
    args = [a for o in overrides for a in ("--set", o)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # hooks from this checkout; demos from the project (cwd comes first)
    return subprocess.run([sys.executable, "-m", "demos.limited", *args, "--out", str(root / "out")],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("override", ["n=1000", "n=0", "rate=-1", "n=ten", "rate=nan", "loud=1"])
def test_a_demo_command_line_refuses_what_the_build_refuses_in_the_same_words(tmp_path: Path, override: str) -> None:
    from hooks.figures.spec import DemoError, load_spec, resolve_params

    proc = _limited_demo(tmp_path, override)
    key, _, raw = override.partition("=")
    with pytest.raises(DemoError) as build:
        resolve_params(load_spec(tmp_path / "demos", "limited"), {key: raw})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().endswith(f"error: {build.value.message}")
    assert "ran" not in proc.stderr and not (tmp_path / "out").exists()


def test_a_demo_command_line_takes_values_within_its_limits(tmp_path: Path) -> None:
    proc = _limited_demo(tmp_path, "n=100", "rate=2.5")
    assert proc.returncode == 1 and proc.stderr.strip().endswith("ran with n=100 rate=2.5"), proc.stderr  # typed, and run
