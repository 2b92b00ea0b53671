"""What every section shares: timed subprocesses with their own peak memory, statistics, tables, the machine.

Every build runs in its own process. Its peak memory is ``ru_maxrss`` of the ``rusage`` that
``os.wait4`` returns for that one child: the largest resident set of the child and of every process
it waited for (a demo process started by a build counts). This is the number ``/usr/bin/time -f %M``
prints, and what a wrapper would read with ``getrusage(RUSAGE_CHILDREN)``, without the wrapper.
"""
from __future__ import annotations

import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Iterable, Sequence

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BUILD_TIMEOUT_S = 600


class BenchError(RuntimeError):
    """A measured command failed: the section cannot give a number."""


@dataclass
class Run:
    seconds: float  # wall time from start to exit, interpreter start-up included
    cpu_s: float  # user + system CPU time of the process and the children it waited for
    maxrss_kib: int  # peak resident set (KiB)
    returncode: int
    output: str = ""


def env_for(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("NO_MKDOCS_2_WARNING", "1")
    env["NO_MKDOCS_2_WARNING"] = "1"
    env.pop("DEMOS_CACHE_DIR", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user runs it: compiled modules are cached
    env.update(extra)
    return env


def run_measured(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    timeout_s: float = BUILD_TIMEOUT_S,
    check: bool = True,
) -> Run:
    """Run ``argv`` in its own process (group); wall time, CPU time and peak RSS of that process alone."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-out-{os.getpid()}-{threading.get_ident()}.txt"
    with open(out_path, "w+b") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=env or env_for(), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        killed = []

        def kill() -> None:
            killed.append(True)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    out_path.unlink(missing_ok=True)
    run = Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode, text)
    if check and (killed or proc.returncode != 0):
        why = f"timed out after {timeout_s:g} s" if killed else f"exited with {proc.returncode}"
        tail = "\n".join(text.strip().splitlines()[-15:])
        raise BenchError(f"{' '.join(map(str, argv))} {why}:\n{tail}")
    return run


def mkdocs_build(config: Path, site_dir: Path, env: dict[str, str] | None = None) -> Run:
    """One ``mkdocs build`` of ``config`` into ``site_dir`` (emptied by MkDocs itself), in its own process."""
    return run_measured(
        [PYTHON, "-m", "mkdocs", "build", "--quiet", "--config-file", str(config), "--site-dir", str(site_dir)],
        cwd=config.parent, env=env,
    )


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def tree_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


# --- statistics ------------------------------------------------------------------------------------

@dataclass
class Sample:
    """Repeated measurements of one quantity."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def lo(self) -> float:
        return min(self.values) if self.values else float("nan")

    @property
    def hi(self) -> float:
        return max(self.values) if self.values else float("nan")

    @property
    def n(self) -> int:
        return len(self.values)


def fmt_s(sample: Sample, digits: int = 2) -> str:
    """``median (min–max)`` in seconds, or one value when measured once."""
    if sample.n == 0:
        return "–"
    if sample.n == 1:
        return f"{sample.median:.{digits}f} (1 run)"
    return f"{sample.median:.{digits}f} ({sample.lo:.{digits}f}–{sample.hi:.{digits}f})"


def fmt_mib(sample: Sample) -> str:
    if sample.n == 0:
        return "–"
    if sample.n == 1 or sample.lo == sample.hi:
        return f"{sample.median / 1024:.0f}"
    return f"{sample.median / 1024:.0f} ({sample.lo / 1024:.0f}–{sample.hi / 1024:.0f})"


def fmt_bytes(n: float) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MiB"
    return f"{n / 1024:.0f} KiB"


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def ratio_sample(num: Sample, den: Sample) -> Sample:
    """Per-round ratios (round i of ``num`` over round i of ``den``, measured side by side)."""
    return Sample([a / b for a, b in zip(num.values, den.values) if b])


def fmt_ratio(r: float | Sample) -> str:
    if isinstance(r, Sample):
        if r.n == 0:
            return "–"
        if r.n == 1:
            return f"{r.median:.2f}×"
        return f"{r.median:.2f}× ({r.lo:.2f}–{r.hi:.2f})"
    return f"{r:.2f}×"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


# --- the machine -----------------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / (1 << 20):.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine_table() -> str:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rows = [
        ("CPU", _cpu_model()),
        ("cores", f"{os.cpu_count()} (usable by this process: {affinity})"),
        ("memory", _memory()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("mkdocs", _version("mkdocs")),
        ("mkdocs-material", _version("mkdocs-material")),
        ("torch", _version("torch")),
        ("markdown-exec", _version("markdown-exec")),
        ("load average at start (1, 5, 15 min)", _load()),
    ]
    return table(("machine", ""), rows)


def load_average() -> str:
    return _load()
