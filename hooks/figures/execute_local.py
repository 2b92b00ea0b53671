"""The local executor: demos run in isolated processes on this machine, several at once; nothing here imports torch.

:func:`execute` runs jobs that the cache could not serve (hooks.figures.runner picks this executor or
the Dask one); :func:`run_job` serves one job from the remote cache or runs it. A run is boxed in:

* its own process group in a fresh working folder outside the project and the cache (its ``HOME``,
  ``TMPDIR`` and matplotlib's config live there too), with one torch thread;
* on Linux, a Landlock rule set lets it write only inside that folder (and ``/dev``): not into
  ``docs/``, the cache, ``/tmp`` or another run (see hooks.figures.child);
* a timeout and a memory limit (the resident memory of the process and everything it started),
  and the whole process group is killed when the run ends, so nothing it forked outlives it;
* only the files it promised (each figure of ``FIGURES`` in light and dark, and ``data.json``) are
  taken from its output folder, checked (sizes, JSON, SVGs without script), and copied into the cache
  with its log and its source;
* it sees only an allow-listed environment (:data:`PASSED_VARIABLES`): no credentials of the build;
* its output is streamed from a pipe, and only its first and last 256 KiB are kept as its log.
"""
from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress as _quiet
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from filelock import FileLock

from hooks.figures.cache import DemoCache, os_error_text
from hooks.figures.model import Job, Result
from hooks.figures.plan import Settings
from hooks.figures.remote import RemoteCache
from hooks.figures.validate import LOG_KEEP_BYTES, MAX_FILE_BYTES as MAX_OUTPUT_BYTES, REPLACED, figure_files, narrow_files, svg_problem

LOG_TAIL_LINES = 6
# What a demo sees of the build's environment: what Python, torch, numpy/OpenBLAS, matplotlib, CUDA and
# the locale need, nothing else (no AWS_*, no tokens, no DEMOS_*: a demo must not read the build's
# credentials, write them into data.json or use them to write to the remote cache). The runner then
# sets the thread counts, the backend, a fixed hash seed and a private HOME, TMPDIR and caches.
PASSED_VARIABLES = ("PATH", "LANG", "LANGUAGE", "TZ", "LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                    "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "CUDA_HOME", "NVIDIA_VISIBLE_DEVICES", "SYSTEMROOT")
PASSED_PREFIXES = ("LC_",)
_CHILD = "hooks/figures/child.py"  # the process that runs a demo: its frames are not the demo's error


def expected_files(job: Job) -> list[str]:
    """What a run must leave in its output folder: every figure in both themes, and data.json."""
    return figure_files(job.spec.figures) + ["data.json"]


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the build that started it dies (so kill -9 leaves no orphans)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _shorten_paths(text: str, root: Path, work: Path) -> str:
    """Tracebacks as a person reads them: project files relative to it, libraries from their package."""
    for base, replacement in ((str(work), "<run folder>"), (str(root.resolve()), "."), (str(root), ".")):
        text = re.sub(r"(?<![\w.])" + re.escape(base) + r"(?=/|\b)", replacement, text)
    text = re.sub(r"[^\s\"']*/(?:site|dist)-packages/", "", text)
    return text.replace("./demos/", "demos/").replace("./hooks/", "hooks/")


def _tail_error(log: str, root: Path, work: Path) -> tuple[str, str]:
    """The exception line and the last traceback lines of a log, with readable paths."""
    lines = [line for line in _shorten_paths(log, root, work).splitlines() if line.strip()]
    if not lines:
        return "exited without output", ""
    tb_start = max((i for i, line in enumerate(lines) if line.startswith("Traceback")), default=None)
    tail = lines[tb_start:] if tb_start is not None else lines
    frames = [line.strip() for line in tail if line.strip().startswith("File ") and _CHILD not in line]
    last_line = tail[-1].strip()
    detail = "; ".join(frames[-2:] + [last_line]) if frames else "; ".join(l.strip() for l in tail[-LOG_TAIL_LINES:])
    return last_line, detail


def _tree(pid: int) -> list:
    """A process and everything below it (psutil processes; empty when it is gone)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


def _rss(procs: list) -> int:
    """Resident bytes of the given processes together."""
    import psutil

    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _kill_tree(pid: int, seen: Iterable = ()) -> None:
    """SIGKILL the run's process, everything below it and every process seen below it while it ran.

    The demo's supervisor (hooks.figures.child) is the subreaper of everything the demo starts, so
    descendants are killed first, while they are still its descendants; then the process group (what
    stayed in it) and the processes seen earlier that are still the same processes (psutil checks
    their start time, so a reused PID is never hit).
    """
    import psutil

    for _ in range(50):
        below = [p for p in _tree(pid)[1:] if _alive(p)]
        if not below:
            break
        for p in below:
            with _quiet(psutil.Error):
                p.kill()
        psutil.wait_procs(below, timeout=0.5)
    _kill_group(pid)
    for p in seen:
        if _alive(p):
            with _quiet(psutil.Error):
                p.kill()


def _alive(proc) -> bool:
    import psutil

    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _wait(proc: subprocess.Popen, timeout_s: float, memory_bytes: int, seen: dict) -> tuple[int | None, str]:
    """Wait for the run; returns (exit code or None, why it was stopped). ``seen`` collects every
    process found below it, by PID, so that the end of the run can kill them all."""
    deadline = time.monotonic() + timeout_s
    interval = 0.02
    while True:
        try:
            return proc.wait(timeout=interval), ""
        except subprocess.TimeoutExpired:
            pass
        procs = _tree(proc.pid)
        for p in procs[1:]:
            seen.setdefault(p.pid, p)
        if _rss(procs) > memory_bytes:
            return None, "memory"
        if time.monotonic() > deadline:
            return None, "timeout"
        interval = min(interval * 1.5, 0.25)


def _disk_full(folder: Path) -> bool:
    """Whether the file system of ``folder`` has (almost) no room left: a run failing there could not even log why."""
    try:
        return shutil.disk_usage(folder).free < 64 * 1024
    except OSError:
        return False


def _harvest(job: Job, out: Path, dest: Path) -> str | None:
    """Copy the promised files from the run's output folder into ``dest``, and the narrow variants of its
    figures where the demo drew them (both themes or neither); the reason when one is missing or odd."""
    missing = []
    optional = []
    for figure in job.spec.figures:
        drawn = [name for name in narrow_files(figure) if os.path.lexists(out / name)]
        if len(drawn) == 1:
            return f"wrote {drawn[0]} without the other theme's narrow variant (write both or neither)"
        optional += drawn
    for name in expected_files(job) + optional:
        path = out / name
        try:
            st = os.lstat(path)
        except OSError:
            missing.append(name)
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            missing.append(name)
            continue
        if st.st_size > MAX_OUTPUT_BYTES:
            return f"wrote {name} of {st.st_size // 1024 // 1024} MiB, more than the {MAX_OUTPUT_BYTES // 1024 // 1024} MiB a figure may take"
        shutil.copyfile(path, dest / name, follow_symlinks=False)
        if name.endswith(".svg"):
            unsafe = svg_problem((dest / name).read_bytes())
            if unsafe:
                return f"wrote {name}, which is not an SVG that is safe to publish: {unsafe}"
    if missing:
        return f"finished without writing {', '.join(missing)} (every figure in FIGURES, in light and dark, and data.json)"
    try:
        json.loads((dest / "data.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"wrote an unreadable data.json ({exc})"
    return None


def _child_env(settings: Settings, work: Path) -> dict[str, str]:
    """The demo's environment: the allow-listed variables of this one, and what the runner sets."""
    env = {k: v for k, v in os.environ.items() if k in PASSED_VARIABLES or k.startswith(PASSED_PREFIXES)}
    env.setdefault("PATH", os.defpath)
    env.update(
        OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1", HOME=str(work), TMPDIR=str(work / "tmp"), MPLCONFIGDIR=str(work / "mpl"),
        XDG_CACHE_HOME=str(work / "cache"),
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(settings.project_root), os.environ.get("PYTHONPATH", "")]))
    return env


class _LogKeeper:
    """Reads a run's output from a pipe as it comes, keeping its first and its last ``keep`` bytes.

    A demo that prints a gigabyte costs the build two times ``keep`` of memory, not a gigabyte, and
    its log says how much was cut between both ends.
    """

    def __init__(self, fd: int, keep: int = LOG_KEEP_BYTES):
        self.fd, self.keep = fd, keep
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            self.total += len(chunk)
            room = self.keep - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail += chunk
                if len(self.tail) > 2 * self.keep:
                    del self.tail[: len(self.tail) - self.keep]

    def finish(self) -> bytes:
        """The log (after the run's processes are gone): head, a line saying what was cut, tail."""
        self.thread.join(timeout=5)  # a process that escaped the kill and holds the pipe does not hold the build
        try:
            os.close(self.fd)
        except OSError:
            pass
        tail = bytes(self.tail[-self.keep:])
        cut = self.total - len(self.head) - len(tail)
        if cut <= 0:
            return bytes(self.head) + tail
        return bytes(self.head) + f"\n[... {cut} bytes of output cut: the log keeps the first and the last {self.keep // 1024} KiB ...]\n".encode() + tail


def _run_one(job: Job, settings: Settings, cache: DemoCache, replace: bool) -> Result:
    tmp, tmp_lock = cache.new_tmp_dir(job.key)
    work = Path(tempfile.mkdtemp(prefix=f"demo-{job.name}-"))
    started = time.perf_counter()
    try:
        out = work / "out"
        for sub in ("out", "tmp", "mpl", "cache"):
            (work / sub).mkdir()
        shutil.copyfile(job.spec.path, tmp / "source.py")  # the source that makes this run, for its provenance
        request = {"project_root": str(settings.project_root), "demo": job.name, "params": job.params,
                   "device": job.device, "out_dir": str(out), "work_dir": str(work)}
        request_path = work / "request.json"
        request_path.write_text(json.dumps(request), encoding="utf-8")
        read_end, write_end = os.pipe()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "hooks.figures.child", str(request_path)],
                cwd=work, env=_child_env(settings, work), stdout=write_end, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        log = _LogKeeper(read_end)
        seen: dict = {}
        try:
            rc, stopped = _wait(proc, job.timeout_s, int(settings.memory_gib * 1024**3), seen)
        finally:
            _kill_tree(proc.pid, seen.values())  # whatever the demo started dies with it, also after a success
            proc.wait()
            log_bytes = log.finish()
        seconds = time.perf_counter() - started
        log_text = log_bytes.decode("utf-8", errors="replace")

        def fail(error: str, detail: str = "") -> Result:
            return Result(job, "failed", error=error, detail=detail, seconds=seconds)

        if stopped == "timeout":
            return fail(f"timed out after {job.timeout_s:g} s (raise TIMEOUT_S in the demo or extra.demos.timeout)")
        if stopped == "memory":
            return fail(f"used more than {settings.memory_gib:g} GiB of memory (extra.demos.memory); lower its parameters or raise the limit")
        if rc != 0:
            if _disk_full(work) or "[Errno 28]" in log_text:
                return fail(f"no space left on device in {work.parent}, where demos run (the system's temporary folder); free some space or set TMPDIR to a folder with room")
            if rc is not None and rc < 0:
                return fail(f"was killed by signal {signal.Signals(-rc).name}", _tail_error(log_text, settings.project_root, work)[1])
            return fail(*_tail_error(log_text, settings.project_root, work))
        problem = _harvest(job, out, tmp)
        if problem:
            return fail(problem)
        try:
            info = json.loads((work / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return fail(f"the demo process left no readable record of its run ({exc})")
        (tmp / "log.txt").write_bytes(log_bytes)
        manifest = {
            "demo": job.name,
            "status": "ok",
            "params": job.params,
            "overrides": job.overrides,
            "params_id": job.params_id,
            "figures": list(job.spec.figures),
            "source": job.spec.path.resolve().relative_to(settings.project_root.resolve()).as_posix(),
            "seconds": info["seconds"],
            "seed": info.get("seed"),
            "device": info["device"],
            "device_name": info["device_name"],
            "versions": info["versions"],
            "torch_threads": info.get("torch_threads"),
            "sandbox": info.get("sandbox", "none"),
            "host": socket.gethostname(),
            "worker": settings.worker,
            "finished_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "key_material": job.material,
        }
        if job.reran_because:
            manifest["reran_because"] = job.reran_because
        if job.replaces is not None:  # what the run it replaces measured: the build compares the two (hooks.figures.numbers)
            (tmp / REPLACED).write_text(json.dumps(job.replaces, sort_keys=True), encoding="utf-8")
        entry = cache.commit(tmp, job.name, job.key, manifest, replace=replace)
        return Result(job, "ran", entry=entry, seconds=seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)  # gone already when the run was committed
        tmp_lock.release()
        try:
            os.unlink(tmp_lock.lock_file)
        except OSError:
            pass


def run_job(job: Job, settings: Settings, cache: DemoCache, force: bool = False, remote: RemoteCache | None = None) -> Result:
    """Serve a job from the local cache, else from the remote one, else run it under its key's lock
    (a second build waits, then reuses) and push the new entry to the remote cache."""
    problems: list[str] = []
    if not force:
        entry, damaged = cache.lookup_or_why(job.name, job.key)
        if entry is not None:
            return Result(job, "cached", entry=entry)
        problems += [damaged] if damaged else []
        if remote is not None:
            entry, moved = remote.pull(job.name, job.key, cache, job.spec.figures)
            problems += moved.problems
            if entry is not None:
                return Result(job, "pulled", entry=entry, remote_problems=problems)
    if not job.runnable:
        stale = cache.last_good(job.name, job.params_id)
        return Result(job, "needs-gpu", stale=stale, error=f"needs a GPU run: notes demos {job.name} --device cuda", remote_problems=problems)
    try:
        with FileLock(str(cache.lock_path(job.key))):
            if not force:
                entry = cache.lookup(job.name, job.key)
                if entry is not None:
                    return Result(job, "cached", entry=entry)
            result = _run_one(job, settings, cache, replace=force)
    except OSError as exc:
        result = Result(job, "failed", error=f"could not run: {os_error_text(exc)} (in {cache.root} or the system's temporary folder)")
    result.remote_problems = problems
    if result.status == "ran" and remote is not None and not remote.readonly:
        result.remote_problems += remote.push(result.entry).problems
    if result.status == "failed":
        result.stale = cache.last_good(job.name, job.params_id, exclude_key=job.key) or cache.lookup(job.name, job.key)
    return result


def execute(
    jobs: list[Job],
    settings: Settings,
    cache: DemoCache,
    remote: RemoteCache | None,
    force: bool,
    on_result: Callable[[Result], None] | None,
    say: Callable[[str], None] | None = None,
) -> list[Result]:
    """Run ``jobs`` here, up to ``settings.workers`` processes at once, in the order given; each
    result is handed to ``on_result`` as it comes."""
    results: list[Result] = []
    with ThreadPoolExecutor(max_workers=max(1, min(settings.workers, len(jobs)))) as pool:
        for result in pool.map(lambda j: run_job(j, settings, cache, force, remote), jobs):
            results.append(result)
            if on_result:
                on_result(result)
    return results
