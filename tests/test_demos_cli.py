"""`notes demos` on the fake demos: same planner and cache as the build, exit codes, no torch."""
from __future__ import annotations

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
