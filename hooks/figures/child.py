"""Child process that runs one demo into a folder: ``python -m hooks.figures.child REQUEST.json``.

The parent (hooks.figures.execute_local) gives it the project root, demo name, typed parameters, device,
its working folder and the output folder inside it. Before the demo is imported, a Landlock rule
set (Linux 5.13 and later) lets this process and everything it starts write only inside the working
folder and ``/dev``; reading stays open, so Python, torch and the project's sources load as usual.

This process is a supervisor: it becomes the "child subreaper" of everything below it (so a process
the demo forks, daemonised or in a new session, stays its descendant), forks the demo's own
process, waits for it and then kills whatever the demo left running before it exits with the
demo's status. The demo writes its files plus ``run.json`` (seconds, device, versions, sandbox)
into the working folder and exits non-zero on any error, leaving a traceback on stderr.
"""
from __future__ import annotations

import ctypes
import dataclasses
import importlib
import json
import os
import platform
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

# Landlock (include/uapi/linux/landlock.h): the file-system accesses that change something.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # the same on x86-64 and arm64
_RULE_PATH_BENEATH = 1
_WRITE_FILE, _REMOVE_DIR, _REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
_MAKE = sum(1 << bit for bit in range(6, 13))  # MAKE_CHAR, _DIR, _REG, _SOCK, _FIFO, _BLOCK, _SYM
_REFER, _TRUNCATE = 1 << 13, 1 << 14  # ABI 2 and 3
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER = 1, 36


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def restrict_writes(allowed: list[str]) -> str:
    """Let this process (and its children) write only beneath ``allowed``; say what was applied."""
    if sys.platform != "linux":
        return "none (not Linux)"
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))  # LANDLOCK_CREATE_RULESET_VERSION
    if abi < 1:
        return "none (Landlock is not available in this kernel)"
    handled = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)
    attr = ctypes.c_uint64(handled)  # struct landlock_ruleset_attr, file-system part only
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(8), ctypes.c_uint32(0))
    if ruleset < 0:
        return f"none (Landlock refused the rule set: {os.strerror(ctypes.get_errno())})"
    try:
        for path in allowed:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = _PathBeneath(handled, fd)
                if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)) < 0:
                    return f"none (Landlock refused {path}: {os.strerror(ctypes.get_errno())})"
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return "none (no_new_privs could not be set)"
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) < 0:
            return f"none (Landlock could not be applied: {os.strerror(ctypes.get_errno())})"
    finally:
        os.close(ruleset)
    return f"landlock (ABI {abi}): writes only to its own folder"


def _prctl(option: int, value: int) -> bool:
    if sys.platform != "linux":
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def kill_descendants() -> None:
    """SIGKILL every process below this one and reap them (a subreaper inherits the orphans among them)."""
    import psutil

    me = psutil.Process()
    for _ in range(100):  # a process forking as fast as it is killed gives up long before this
        try:
            alive = [p for p in me.children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
        except psutil.Error:
            alive = []
        if not alive:
            break
        for proc in alive:
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(alive, timeout=1)
    while True:  # zombies: orphans that ended while this process was their parent
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break


def supervise(run: Callable[[], int]) -> int:
    """Run ``run()`` in a forked process, then kill everything it left; its exit status (negative: a signal)."""
    has_reaper = _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the demo's process: dies with the supervisor
        code = 1
        try:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            code = run()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if not isinstance(exc.code, (int, type(None))):
                print(exc.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if has_reaper:
        kill_descendants()
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def keep_freed_memory() -> str:
    """Let the demo's process reuse the memory it frees instead of handing it back at every step.

    glibc's malloc gives each block above its mmap threshold a fresh mapping and trims the top of
    the heap on free, so the megabytes of activations of every training step are page-faulted and
    zeroed again at the next one. Raising both thresholds (``mallopt(3)``) keeps them in the
    process: measured on next_token's character model, a fifth of its step time, with identical
    results. Says what was applied; a no-op where the C library is not glibc.
    """
    if sys.platform != "linux":
        return "no (not Linux)"
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "gnu_get_libc_version"):
        return "no (the C library is not glibc)"
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3  # glibc's malloc.h
    ok = libc.mallopt(m_mmap_threshold, 1 << 30) and libc.mallopt(m_trim_threshold, 1 << 30) and libc.mallopt(m_top_pad, 64 << 20)
    return "yes" if ok else "no (mallopt refused)"


def main(argv: list[str]) -> int:
    request = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    sandbox = restrict_writes([str(request["work_dir"]), "/dev"])
    status = supervise(lambda: run_demo(request, sandbox))
    if status < 0:  # end the way the demo ended, so the runner says which signal
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    return status


def run_demo(request: dict, sandbox: str) -> int:
    """Import and run the demo (in the demo's own process); write run.json."""
    root = request["project_root"]
    work = Path(request["work_dir"])
    out = Path(request["out_dir"])
    device = request["device"]
    sys.path.insert(0, root)
    for name in list(sys.modules):  # a 'demos' package imported from elsewhere must not shadow the project's
        if name == "demos" or name.startswith("demos."):
            del sys.modules[name]

    from hooks.figures.plan import library_versions

    kept = keep_freed_memory()
    start = time.perf_counter()
    module = importlib.import_module(f"demos.{request['demo']}")
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' was asked for but torch sees no CUDA device; use --device cpu")
    cfg = module.Config(**request["params"])
    seed = getattr(cfg, "seed", None)
    if seed is not None:
        import random

        random.seed(seed)
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed(seed)
        if torch is not None:
            torch.manual_seed(seed)
    module.run(cfg, out, device)
    seconds = time.perf_counter() - start

    device_name = "cpu"
    if torch is not None and device.startswith("cuda"):
        device_name = torch.cuda.get_device_name(0)
    elif platform.processor():
        device_name = f"cpu ({platform.processor()})"
    info = {
        "seconds": round(seconds, 3),
        "device": device,
        "device_name": device_name,
        "seed": seed,
        "versions": dict(library_versions(), python=platform.python_version()),
        "config": dataclasses.asdict(cfg),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "sandbox": sandbox,
        "keep_freed_memory": kept,
    }
    (work / "run.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
