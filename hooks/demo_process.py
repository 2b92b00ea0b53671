"""Child process that runs one demo into a folder: ``python -m hooks.demo_process REQUEST.json``.

The parent (hooks.runner) gives it the project root, demo name, typed parameters, device and output
folder; it writes the demo's files plus ``_run.json`` (seconds, device, versions) and exits non-zero
on any error, leaving a traceback on stderr.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

from hooks.cache import library_versions


def main(argv: list[str]) -> int:
    request = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    root = request["project_root"]
    sys.path.insert(0, root)
    for name in list(sys.modules):  # a 'demos' package imported from elsewhere must not shadow the project's
        if name == "demos" or name.startswith("demos."):
            del sys.modules[name]
    os.chdir(root)
    out = Path(request["out_dir"])
    device = request["device"]

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
    versions = dict(library_versions(), python=platform.python_version())
    info = {
        "seconds": round(seconds, 3),
        "device": device,
        "device_name": device_name,
        "seed": seed,
        "versions": versions,
        "config": dataclasses.asdict(cfg),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
    }
    (out / "_run.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
