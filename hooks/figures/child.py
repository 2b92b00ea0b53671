"""Child process that runs one demo into a folder: ``python -m hooks.figures.child REQUEST.json``.

The parent (hooks.figures.runner) gives it the project root, demo name, typed parameters, device,
its working folder and the output folder inside it. Before the demo is imported, a Landlock rule
set (Linux 5.13 and later) lets this process and everything it starts write only inside the working
folder and ``/dev``; reading stays open, so Python, torch and the project's sources load as usual.
The child writes the demo's files plus ``run.json`` (seconds, device, versions, sandbox) into the
working folder and exits non-zero on any error, leaving a traceback on stderr.
"""
from __future__ import annotations

import ctypes
import dataclasses
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

# Landlock (include/uapi/linux/landlock.h): the file-system accesses that change something.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # the same on x86-64 and arm64
_RULE_PATH_BENEATH = 1
_WRITE_FILE, _REMOVE_DIR, _REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
_MAKE = sum(1 << bit for bit in range(6, 13))  # MAKE_CHAR, _DIR, _REG, _SOCK, _FIFO, _BLOCK, _SYM
_REFER, _TRUNCATE = 1 << 13, 1 << 14  # ABI 2 and 3
_PR_SET_NO_NEW_PRIVS = 38


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


def main(argv: list[str]) -> int:
    request = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    root = request["project_root"]
    work = Path(request["work_dir"])
    out = Path(request["out_dir"])
    device = request["device"]
    sandbox = restrict_writes([str(work), "/dev"])
    sys.path.insert(0, root)
    for name in list(sys.modules):  # a 'demos' package imported from elsewhere must not shadow the project's
        if name == "demos" or name.startswith("demos."):
            del sys.modules[name]

    from hooks.figures.plan import library_versions

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
    }
    (work / "run.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
