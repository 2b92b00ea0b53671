"""The demo cache under hostile conditions: a foreign build's run in progress, a forced rerun, a full
disk, a read-only cache; the cache deletes only what it made and says what went wrong in one line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from hooks.figures.cache import DemoCache
from tests.hostile.conftest import Project, build, cli, fake_demo, mount, notes, umount

NONCE = fake_demo("Writes a fresh random number on every run.", body="    data = {'nonce': os.urandom(8).hex()}\n")
BIG = fake_demo("Writes a data.json of about a MiB.", body="    data = {'numbers': 'x' * (1024 * 1024)}\n")


@pytest.fixture
def lock_holder() -> Iterator:
    """Hold file locks from a separate process, as a build in another container would."""
    procs = []

    def hold(lock: Path) -> subprocess.Popen:
        code = "import sys; from filelock import FileLock; l = FileLock(sys.argv[1]); l.acquire(); print('held', flush=True); sys.stdin.read()"
        proc = subprocess.Popen([sys.executable, "-c", code, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "held"
        procs.append(proc)
        return proc

    yield hold
    for proc in procs:
        proc.stdin.close()
        proc.wait(timeout=10)


def test_a_run_in_progress_in_another_build_survives_the_cleanup(project: Project, lock_holder) -> None:
    assert build(project).rc == 0
    tmp = project.root / ".demos-cache" / "tmp"
    foreign = tmp / f"{'a' * 20}.{'b' * 12}"  # a run of another build (another PID namespace: its PID means nothing here)
    foreign.mkdir()
    (foreign / "main-light.svg").write_text("<svg/>")
    holder = lock_holder(tmp / f"{foreign.name}.lock")
    killed = tmp / f"{'c' * 20}.{'d' * 12}"  # a run whose build was killed: its lock is free
    killed.mkdir()
    (killed / "data.json").write_text("{}")
    project.page("more.md", "# More\n\n!demo[Bigger](ok/main?scale=7)\n")
    assert build(project).rc == 0
    assert (foreign / "main-light.svg").is_file(), "the other build's run in progress was deleted"
    assert not killed.exists(), "the killed build's leftovers were not cleaned up"
    holder.stdin.close()
    holder.wait(timeout=10)
    project.page("more.md", "# More\n\n!demo[Bigger](ok/main?scale=8)\n")
    assert build(project).rc == 0
    assert not foreign.exists(), "a finished (unlocked) run's folder is cleaned up by the next run"


def test_force_replaces_the_entry(project: Project) -> None:
    project.demo("nonce", NONCE)
    first = notes(project.root, "demos", "nonce")
    assert first.rc == 0 and "ran     nonce [default]" in first.text
    entries = project.root / ".demos-cache" / "entries" / "nonce"
    [path] = entries.iterdir()
    before = json.loads((path / "data.json").read_text())["nonce"]
    forced = notes(project.root, "demos", "nonce", "--force")
    assert forced.rc == 0 and "ran     nonce [default]" in forced.text, forced.text
    assert [p.name for p in entries.iterdir()] == [path.name]
    after = json.loads((path / "data.json").read_text())["nonce"]
    assert after != before, "--force said 'ran' but the old entry stayed"
    assert DemoCache(project.root / ".demos-cache").lookup("nonce", path.name) is not None


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs (needs root); skipped with the reason when it cannot be mounted."""
    folder = tmp_path / "tiny-disk"
    folder.mkdir()
    why = mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder))
    if why:
        pytest.skip(f"cannot mount a tiny tmpfs: {why}")
    try:
        yield folder
    finally:
        umount(folder)


def test_a_full_disk_under_the_cache_says_so(project: Project, tiny_disk: Path) -> None:
    project.demo("big", BIG)
    project.settings(demos={"cache_dir": str(tiny_disk), "cache_outside_project": True, "timeout": 30})
    built = build(project)
    assert built.rc == 1
    [line] = [line for line in built.lines if line.startswith("demo 'big' failed")]
    assert "no space left on device" in line, built.text
    ran = notes(project.root, "demos", "big")
    assert ran.rc == 1 and "FAILED  big [default]: could not run: no space left on device" in ran.text, ran.text
    assert list((tiny_disk / "tmp").iterdir()) == [], "a failed run left its folder behind"


def test_a_full_disk_where_the_demo_writes_says_so(project: Project, tiny_disk: Path) -> None:
    project.demo("big", BIG)
    proc = cli(project.root, "notes", "demos", "big", env={"TMPDIR": str(tiny_disk)})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    [line] = [line for line in proc.stdout.splitlines() if line.startswith("FAILED  big")]
    assert "no space left on device" in line, proc.stdout


@pytest.fixture
def read_only(project: Project) -> Iterator:
    """Make a folder read-only with a bind mount (root cannot be stopped by permissions alone)."""
    mounted = []

    def make(folder: Path) -> None:
        why = mount("--bind", str(folder), str(folder)) or mount("-o", "remount,bind,ro", str(folder))
        if why:
            pytest.skip(f"cannot mount a read-only folder: {why}")
        mounted.append(folder)

    yield make
    for folder in mounted:
        umount(folder)


def test_a_read_only_cache_serves_a_build_that_needs_no_run(project: Project, read_only) -> None:
    assert build(project).rc == 0
    cache = project.root / ".demos-cache"
    read_only(cache)
    with pytest.raises(OSError):
        (cache / "probe").write_text("")
    again = build(project)
    assert again.rc == 0, again.text
    assert "0 ran, 1 reused from the cache, 0 failed" in again.text
    listed = notes(project.root, "demos")
    assert listed.rc == 0 and "0 ran, 1 cached, 0 failed" in listed.text
    project.page("more.md", "# More\n\n!demo[Bigger](ok/main?scale=9)\n")
    needs_a_run = build(project)
    assert needs_a_run.rc == 1
    [line] = needs_a_run.lines
    assert line.startswith(f"demo cache folder {cache} cannot be written (on a read-only file system)"), needs_a_run.text
