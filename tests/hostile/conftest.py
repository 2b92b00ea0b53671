"""Temporary projects for the hostile-input suite, and the outcome of `notes check`, `notes demos` and a build on them.

Every case runs in a project under tmp_path: the tiny fixture site (tests/fixtures/tiny/docs), both
hooks, and fake demos written by the test (no torch). Beside each project lies a sentinel folder
``tmp/old-run`` with an old time stamp, the kind of folder a careless cache cleanup deletes; it must
survive every case. After every test no process started for the project may still run.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import psutil
import pytest
import yaml
from mkdocs.exceptions import Abort

from tests.conftest import FIXTURES, ROOT, TINY_DOCS, write_site

DEMO_HOOK = ROOT / "hooks" / "mkdocs_demos.py"
FAKE_DEMOS = FIXTURES / "demo_project" / "demos"
OLD = time.time() - 7 * 24 * 3600  # a week ago: older than any "stale tmp folder" age rule

# A fake demo in a few lines: Config, FIGURES and run() that writes both themes and data.json.
FAKE_DEMO = '''\
"""{doc}"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from demos._helper import write_outputs
{head}

@dataclass
class Config:
    seed: int = 0  # random seed
{fields}

FIGURES = {figures!r}
{tail}

def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    data: dict = {{}}
{body}
    write_outputs(out_dir, list(FIGURES), data)
    return data
'''


def fake_demo(doc: str = "A fake demo.", *, fields: str = "", figures: dict[str, str] | None = None, head: str = "",
              tail: str = "", body: str = "    pass") -> str:
    """Source of a fake demo; ``body`` (indented four spaces) may set ``data``, which is written as data.json."""
    return FAKE_DEMO.format(doc=doc, head=head, fields=textwrap.indent(textwrap.dedent(fields), "    ") if fields else "",
                            figures=figures or {"main": "a square"}, tail=tail, body=body)


@dataclass
class Project:
    """A temporary project: its root (holding mkdocs.yml, docs/ and demos/) and the sentinel beside it."""

    root: Path
    sentinel: Path

    @property
    def config(self) -> Path:
        return self.root / "mkdocs.yml"

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def site(self) -> Path:
        return self.root / "site"

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, encoding="utf-8")
        return path

    def demo(self, name: str, source: str) -> Path:
        return self.write(f"demos/{name}.py", source)

    def page(self, rel: str, text: str) -> Path:
        return self.write(f"docs/{rel}", textwrap.dedent(text).lstrip("\n"))

    def settings(self, **changes: Any) -> None:
        """Change mkdocs.yml: keys at the top level; ``demos=...`` / ``notes=...`` go under ``extra``."""
        config = yaml.safe_load(self.config.read_text(encoding="utf-8"))
        for key in ("demos", "notes"):
            if key in changes:
                config.setdefault("extra", {})[key] = changes.pop(key)
        config.update(changes)
        self.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    def line_of(self, rel: str, text: str) -> int:
        """The 1-based line of the first line of file ``rel`` that holds ``text``."""
        for number, line in enumerate((self.root / rel).read_text(encoding="utf-8").splitlines(), 1):
            if text in line:
                return number
        raise AssertionError(f"{text!r} is not in {rel}")


def make_project(base: Path, *, demos: bool = True, docs: Path | None = TINY_DOCS) -> Project:
    """The tiny site under ``base/ws/proj`` with both hooks and the fake demo ``ok``; ``base/ws/tmp/old-run`` beside it."""
    root = base / "ws" / "proj"
    root.mkdir(parents=True)
    sentinel = base / "ws" / "tmp" / "old-run"
    sentinel.mkdir(parents=True)
    (sentinel / "keep.txt").write_text("not the cache's\n")
    for path in (sentinel / "keep.txt", sentinel, sentinel.parent):
        os.utime(path, (OLD, OLD))
    write_site(root, docs)
    project = Project(root, sentinel)
    project.settings(validation={"omitted_files": "info", "absolute_links": "warn", "unrecognized_links": "warn", "anchors": "warn"})
    if demos:
        (root / "demos").mkdir()
        for name in ("__init__.py", "_helper.py", "ok.py"):
            shutil.copyfile(FAKE_DEMOS / name, root / "demos" / name)
        config = yaml.safe_load(project.config.read_text(encoding="utf-8"))
        config["hooks"].append(str(DEMO_HOOK))
        config["nav"].append({"Demo runs": "demo-runs.md"})
        config["extra"]["demos"] = {"timeout": 30, "jobs": 2}
        project.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path)


@pytest.fixture(autouse=True)
def sentinel_survives(tmp_path: Path) -> Iterator[None]:
    """Whatever a case does, the old folder beside its project is still there afterwards."""
    yield
    sentinel = tmp_path / "ws" / "tmp" / "old-run"
    if (tmp_path / "ws").is_dir():
        assert (sentinel / "keep.txt").read_text() == "not the cache's\n", "a folder outside the project was deleted"


# --- outcomes --------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What a command said: its exit code and the lines of its messages (problems, errors, summary)."""

    rc: int
    lines: list[str] = field(default_factory=list)
    text: str = ""

    def problems(self) -> set[str]:
        """The ``path:line: message`` lines, without a command's prefix."""
        out = set()
        for line in self.lines:
            line = line.removeprefix("notes check: ").removeprefix("notes demos: ").strip()
            if line and not line.endswith("problem(s) in the notes:") and not line.endswith("error(s)") and "Aborted with" not in line:
                out.add(line)
        return out


def notes(root: Path, *args: str) -> Outcome:
    """`notes ARGS` in this process, run from ``root``: exit code and everything it printed."""
    from hooks.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(list(args))
    except SystemExit as exc:  # argparse
        rc = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(previous)
    text = out.getvalue() + err.getvalue()
    return Outcome(rc, [line for line in text.splitlines() if ": " in line and not line.startswith(("ran ", "cached ", "skipped "))], text)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def build(project: Project | Path, strict: bool = True) -> Outcome:
    """`mkdocs build` in this process (a raw exception propagates and fails the test): 0, or 1 with the failure."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    root = project.root if isinstance(project, Project) else project
    handler = _Records()
    logger = logging.getLogger("mkdocs")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    rc = 0
    try:
        config = load_config(str(root / "mkdocs.yml"), strict=strict, site_dir=str(root / "site"))
        mkdocs_build(config)
    except Abort:
        rc = 1
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    for record in handler.records:
        assert record.exc_info is None, f"a traceback was logged: {record.getMessage()}"
    failures = [r.getMessage() for r in handler.records if r.levelno >= logging.ERROR]
    warnings = [r.getMessage() for r in handler.records if r.levelno == logging.WARNING]
    lines = [line for message in (failures if rc else warnings) for line in message.splitlines()]
    return Outcome(rc, lines, "\n".join(r.getMessage() for r in handler.records))


def cli(root: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """A command (``mkdocs build ...`` or ``notes ...``) in a fresh process, run from ``root``."""
    if args[0] == "notes":
        command = [sys.executable, "-c", "import sys; from hooks.cli.main import main; sys.exit(main(sys.argv[1:]))", *args[1:]]
    else:
        command = [sys.executable, "-m", *args]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})})


def assert_one_line(outcome: Outcome, expected: str) -> str:
    """Exactly one problem line, and it starts with ``expected`` (``path:line: what``)."""
    found = [p for p in outcome.problems() if p.startswith(expected)]
    assert found, f"no line starting with {expected!r} in:\n{outcome.text}"
    assert "Traceback" not in outcome.text, outcome.text
    return found[0]


def assert_agree(check: Outcome, built: Outcome) -> None:
    """`notes check` and a strict build report the same problems, or both pass."""
    assert (check.rc == 0) == (built.rc == 0), f"check exit {check.rc}, build exit {built.rc}:\n{check.text}\n---\n{built.text}"
    if check.rc:
        assert check.problems() == built.problems(), f"check:\n{check.text}\n---\nbuild:\n{built.text}"


# --- processes -------------------------------------------------------------------------------------

def processes_of(folder: Path) -> list[psutil.Process]:
    """Live processes started for a project under ``folder`` (demo runs carry it in PYTHONPATH, or run in it)."""
    marker = str(folder)
    found = []
    for proc in psutil.process_iter(["pid", "status"]):
        if proc.pid == os.getpid() or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            env = proc.environ()
            if marker in env.get("PYTHONPATH", "") or marker in " ".join(proc.cmdline()):
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.fixture(autouse=True)
def no_orphans(tmp_path: Path) -> Iterator[None]:
    """No process started by the case (a demo, anything it forked) runs once the case is over."""
    yield
    deadline = time.monotonic() + 5
    left = processes_of(tmp_path)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = processes_of(tmp_path)
    for proc in left:  # do not leave them to the next test either
        with contextlib.suppress(psutil.Error):
            proc.kill()
    assert not left, f"processes left running: {[(p.pid, p.info.get('status')) for p in left]}"


def mount(*args: str) -> str | None:
    """Run ``mount ARGS``; the reason it failed, or None."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return "needs root and mount(8)"
    proc = subprocess.run(["mount", *args], capture_output=True, text=True)
    return proc.stderr.strip() or f"mount exited {proc.returncode}" if proc.returncode else None


def umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)
