"""Hostile demos at run time: they may write only into their own folder, leave no process behind,
and are stopped at the memory limit with a clear message; only the files they promised are kept."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import psutil
import pytest

from hooks.figures.cache import DemoCache
from tests.hostile.conftest import Project, build, fake_demo, notes, processes_of

INTRUDER = fake_demo(
    "Tries to write everywhere but its own folder and records what it was allowed to do.",
    head="import glob\n\nSYSTEM_TMP = '__SYSTEM_TMP__'\n",
    body='''\
    root = Path(__file__).resolve().parents[1]
    attempts = {
        "docs": lambda: (root / "docs" / "intruder.md").write_text("# planted"),
        "project": lambda: (root / "intruder.txt").write_text("planted"),
        "system tmp": lambda: Path(SYSTEM_TMP).write_text("planted"),
        "other entry": lambda: Path(glob.glob(str(root / ".demos-cache/entries/ok/*/main-light.svg"))[0]).write_text("<svg/>"),
        "other entry, new file": lambda: Path(glob.glob(str(root / ".demos-cache/entries/ok/*"))[0], "extra.txt").write_text("x"),
        "own cache folder": lambda: next(p for p in (root / ".demos-cache/tmp").iterdir() if p.is_dir()).joinpath("evil.txt").write_text("x"),
        "beside the project": lambda: (root.parent / "tmp" / "old-run" / "keep.txt").unlink(),
        "own folder": lambda: (out_dir.parent / "scratch.txt").write_text("fine"),
    }
    for what, attempt in attempts.items():
        try:
            attempt()
            data[what] = "written"
        except Exception as exc:
            data[what] = type(exc).__name__
''',
)

FORKER = fake_demo(
    "Starts processes meant to outlive it: a fork, a new session, a double-forked daemon.",
    head="import subprocess\n",
    fields="hang: bool = False  # never return (the runner stops it at TIMEOUT_S)\n",
    tail="TIMEOUT_S = 3\n",
    body='''\
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    pid = os.fork()
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    session = subprocess.Popen(sleeper, start_new_session=True, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    read, write = os.pipe()
    if os.fork() == 0:  # the classic daemon: fork, setsid, fork again, and the middle one exits
        os.setsid()
        grandchild = os.fork()
        if grandchild == 0:
            time.sleep(600)
            os._exit(0)
        os.write(write, str(grandchild).encode())
        os._exit(0)
    daemon = int(os.read(read, 32))
    data = {"pids": [pid, session.pid, daemon]}
    (out_dir.parent / "pids.txt").write_text(" ".join(map(str, data["pids"])))
    while cfg.hang:
        time.sleep(0.1)
''',
)

HOG = fake_demo(
    "Allocates memory in steps (as ?trials=10000000 would) until the runner stops it.",
    fields="gib: float = 2.0  # how much to allocate\nin_child: bool = False  # allocate in a forked child\n",
    body='''\
    def allocate():
        chunks = []
        while len(chunks) * 64 < cfg.gib * 1024:
            chunks.append(b"x" * (64 * 1024 * 1024))  # touched, so it is resident
            time.sleep(0.01)
        return len(chunks)

    if cfg.in_child:
        pid = os.fork()
        if pid == 0:
            allocate()
            os._exit(0)
        os.waitpid(pid, 0)
    else:
        data = {"chunks": allocate()}
''',
)


def run_demo(project: Project, name: str, *args: str):
    """`notes demos NAME` in this process; the demo's results as the cache has them."""
    out = notes(project.root, "demos", name, "--jobs", "1", *args)
    return out


def entry_of(project: Project, name: str):
    cache = DemoCache(project.root / ".demos-cache")
    [path] = list((cache.root / "entries" / name).iterdir())
    return cache.lookup(name, path.name)


def test_a_demo_can_write_only_inside_its_own_folder(project: Project) -> None:
    assert run_demo(project, "ok").rc == 0
    ok = entry_of(project, "ok")
    ok_files = {p.name: p.read_bytes() for p in ok.path.iterdir()}
    system_tmp = Path("/tmp") / f"hostile-{uuid.uuid4().hex}"
    project.demo("intruder", INTRUDER.replace("__SYSTEM_TMP__", str(system_tmp)))
    out = run_demo(project, "intruder")
    assert out.rc == 0, out.text
    entry = entry_of(project, "intruder")
    tried = json.loads(entry.file("data.json").read_text())
    sandbox = entry.manifest["sandbox"]
    if not sandbox.startswith("landlock"):
        pytest.skip(f"the kernel gives no write sandbox here: {sandbox}")
    assert tried.pop("own folder") == "written"
    assert set(tried.values()) == {"PermissionError"}, json.dumps(tried)
    assert not (project.docs / "intruder.md").exists() and not (project.root / "intruder.txt").exists()
    assert not system_tmp.exists()
    assert (project.sentinel / "keep.txt").is_file()
    assert {p.name: p.read_bytes() for p in ok.path.iterdir()} == ok_files
    assert DemoCache(project.root / ".demos-cache").lookup("ok", ok.key) is not None
    assert set(entry.manifest["files"]) == {"main-light.svg", "main-dark.svg", "data.json", "log.txt", "source.py"}


def _gone(pids: list[int], within: float = 5.0) -> list[int]:
    deadline = time.monotonic() + within
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def test_nothing_a_demo_starts_outlives_its_run(project: Project) -> None:
    project.demo("forker", FORKER)
    out = run_demo(project, "forker")
    assert out.rc == 0, out.text
    pids = json.loads(entry_of(project, "forker").file("data.json").read_text())["pids"]
    assert len(pids) == 3
    assert _gone(pids) == [], "a process the demo started is still running"
    assert processes_of(project.root) == []


def test_nothing_a_demo_starts_outlives_its_timeout(project: Project) -> None:
    project.demo("forker", FORKER)
    project.page("forks.md", "# Forks\n\n!demo[Hangs](forker/main?hang=true)\n")
    built = build(project, strict=False)
    assert built.rc == 0
    assert any("demo 'forker' with hang-True failed (used by docs/forks.md): timed out after 3 s" in line for line in built.lines), built.text
    assert _gone([p.pid for p in processes_of(project.root)]) == []


@pytest.mark.parametrize("in_child", [False, True], ids=["itself", "in-a-child"])
def test_a_demo_over_the_memory_limit_is_stopped_with_a_clear_message(project: Project, in_child: bool) -> None:
    project.demo("hog", HOG)
    project.settings(demos={"timeout": 60, "memory": 0.5})
    started = time.monotonic()
    args = ("hog/main?in_child=true",) if in_child else ("hog/main",)
    project.page("hog.md", f"# Hog\n\n!demo[Memory]({args[0]})\n")
    built = build(project, strict=True)
    assert built.rc == 1
    params = " with in_child-True" if in_child else ""
    expected = f"demo 'hog'{params} failed (used by docs/hog.md): used more than 0.5 GiB of memory (extra.demos.memory); lower its parameters or raise the limit"
    assert any(line.startswith(expected) for line in built.lines), built.text
    assert time.monotonic() - started < 45  # stopped at 0.5 GiB, long before the 60 s timeout
    assert _gone([p.pid for p in processes_of(project.root)]) == []


def test_only_the_promised_files_are_kept_and_a_link_is_not_a_figure(project: Project) -> None:
    project.demo("linker", fake_demo(
        "Writes a figure as a link to a system file, and files nobody asked for.",
        body='''\
    (out_dir / "main-light.svg").symlink_to("/etc/passwd")
    (out_dir / "main-dark.svg").write_text("<svg/>")
    (out_dir / "data.json").write_text("{}")
    (out_dir / "extra.bin").write_bytes(b"x" * 1000)
    os.mkdir(out_dir / "sub")
    return data
''',
    ))
    out = run_demo(project, "linker")
    assert out.rc == 1
    assert "FAILED  linker [default]: finished without writing main-light.svg" in out.text
    assert not (project.root / ".demos-cache" / "entries" / "linker").exists()
