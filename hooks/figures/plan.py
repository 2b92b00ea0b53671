"""What to run: the runner's settings from ``extra.demos``, the device, and one job per (demo, parameters).

Nothing here imports torch: the device is found from the driver's files and the installed torch
build's ``version.py``, and every key is computed from sources, parameters and package versions.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from hooks.config import ConfigError, Section
from hooks.figures.directive import FigureRef, SpecCache
from hooks.figures.model import Job
from hooks.figures.spec import DemoError, DemoSpec, demo_names, params_id
from hooks.hashing import digest_of, sha256_file
from hooks.problems import Problem

DEFAULT_CACHE_DIR = ".demos-cache"
LEGACY_CACHE_DIR = ".cache/demos"  # where the cache lived before; moved once (another generator cleans .cache/)
KEY_LIBRARIES = ("torch", "numpy", "matplotlib")
MACHINE_DEVICES = ("auto", "cpu", "cuda")


# --- settings --------------------------------------------------------------------------------------

def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


@dataclass
class Settings:
    project_root: Path
    demos_dir: Path
    cache_dir: Path
    timeout_s: float = 180.0
    jobs: int = 0  # 0: one per core
    device: str = "auto"  # what the machine offers demos: auto, cpu or cuda
    memory_gib: float = 4.0  # per demo process (and everything it starts)
    docs_dir: Path | None = None
    remote: str | None = None  # fsspec URL of a shared cache (extra.demos.remote, DEMOS_REMOTE)
    remote_options: dict[str, Any] = field(default_factory=dict)  # fsspec options (extra.demos.remote_options)
    remote_readonly: bool = False  # pull but never push (DEMOS_REMOTE_READONLY=1, e.g. for pull requests)
    executor: str = "local"  # "local" (a process pool here) or "dask://HOST:PORT" (extra.demos.executor, DEMOS_EXECUTOR)
    worker: str = ""  # where runs happen when that is not this build (a Dask worker's address), for the manifest
    network_timeout: float = 20.0  # seconds to connect to and hear from the remote cache or a Dask scheduler
    serve_background: bool = True  # under `mkdocs serve`, run demos beside the builds (extra.demos.serve_background)
    drift_tolerance: Any = None  # how far a bound number may move between runs unflagged (hooks.figures.numbers.Tolerance)

    @property
    def workers(self) -> int:
        return self.jobs if self.jobs > 0 else (os.cpu_count() or 1)

    @classmethod
    def from_extra(
        cls,
        project_root: Path,
        extra: Any,
        jobs: int | None = None,
        device: str | None = None,
        *,
        config_path: str | os.PathLike[str] | None = None,
        docs_dir: Path | None = None,
    ) -> "Settings":
        """Settings from ``extra.demos`` of mkdocs.yml; ``DEMOS_*`` variables and explicit arguments win.

        Raise ConfigError naming the key and its line for any value that cannot be used.
        """
        root = Path(project_root).resolve()
        section = Section(extra, ("extra", "demos"), config_path)
        timeout = section.number("timeout", 180, low=1, high=24 * 3600)
        if jobs is None:
            jobs = section.number("jobs", 0, low=0, high=256, whole=True)
        elif jobs < 0:
            raise ConfigError(f"--jobs must be 0 (one per core) or more, not {jobs}")
        memory = section.number("memory", 4, low=0.25, high=1024)
        requested = device or os.environ.get("DEMOS_DEVICE") or section.choice("device", "auto", MACHINE_DEVICES)
        if requested.lower() not in MACHINE_DEVICES:
            source = "--device" if device else "DEMOS_DEVICE" if os.environ.get("DEMOS_DEVICE") else "extra.demos.device"
            raise ConfigError(f"{source} must be one of {', '.join(MACHINE_DEVICES)}, not {requested!r}")
        why = cuda_missing() if requested.lower() == "cuda" else None
        if why:  # said here, with the line that asks for it, rather than when the runs are planned
            if device:
                raise ConfigError(f"--device cuda was asked for but this machine cannot run CUDA ({why}); use --device cpu or auto")
            if os.environ.get("DEMOS_DEVICE"):
                raise ConfigError(f"DEMOS_DEVICE=cuda was asked for but this machine cannot run CUDA ({why}); use cpu or auto")
            raise section.error("device", f"is cuda but this machine cannot run CUDA ({why}); use cpu or auto")
        outside_ok = section.flag("cache_outside_project", False) or os.environ.get("DEMOS_CACHE_OUTSIDE") == "1"
        configured = section.text("cache_dir", None)
        raw = os.environ.get("DEMOS_CACHE_DIR") or configured or DEFAULT_CACHE_DIR
        cache_dir = (root / raw).resolve() if not os.path.isabs(raw) else Path(raw).resolve()
        name = "DEMOS_CACHE_DIR" if os.environ.get("DEMOS_CACHE_DIR") else "extra.demos.cache_dir"

        def refuse(message: str) -> ConfigError:
            return section.error("cache_dir", message) if name != "DEMOS_CACHE_DIR" else ConfigError(f"DEMOS_CACHE_DIR {message}")

        if _inside(root, cache_dir):
            raise refuse(f"({cache_dir}) holds the project itself; give the cache a folder of its own, e.g. {DEFAULT_CACHE_DIR}")
        docs = Path(docs_dir).resolve() if docs_dir else root / "docs"
        if _inside(cache_dir, docs):
            raise refuse(f"({cache_dir}) lies inside the docs folder, which is published; use e.g. {DEFAULT_CACHE_DIR}")
        if not _inside(cache_dir, root) and not outside_ok:
            raise refuse(
                f"({cache_dir}) lies outside the project; set extra.demos.cache_outside_project: true "
                "(or DEMOS_CACHE_OUTSIDE=1) if a shared folder is meant"
            )
        if raw == DEFAULT_CACHE_DIR:
            _move_legacy_cache(root)
        from hooks.figures.cache import ownership_problem

        foreign = ownership_problem(cache_dir)
        if foreign:  # refused before anything runs, so `notes check` says what the build would
            raise refuse(f"({cache_dir}) {foreign}")
        remote = os.environ.get("DEMOS_REMOTE") or section.text("remote", None) or None
        if remote and "://" not in remote:  # a folder, relative to the project: a file:// remote
            remote = (root / remote).resolve().as_uri()
        remote_options = section.mapping("remote_options")
        network_timeout = section.number("network_timeout", 20, low=0.1, high=3600)
        executor = os.environ.get("DEMOS_EXECUTOR") or section.text("executor", "local") or "local"
        executor_source = "DEMOS_EXECUTOR" if os.environ.get("DEMOS_EXECUTOR") else None
        if executor != "local" and not executor.startswith("dask://"):
            message = f"must be 'local' or 'dask://HOST:PORT' (a Dask scheduler), not {executor!r}"
            raise ConfigError(f"DEMOS_EXECUTOR {message}") if executor_source else section.error("executor", message)
        if executor != "local" and not remote:
            raise section.error("executor", (
                f"is {executor}, which runs demos on other machines that hand their results over through a shared "
                "cache: set extra.demos.remote (or DEMOS_REMOTE) to an fsspec URL, e.g. s3://bucket/demos"))
        from hooks.figures.numbers import DEFAULT_TOLERANCE, NumberError, parse_tolerance

        try:
            raw_tolerance = section.values.get("drift_tolerance")  # 5% (of the earlier value) or 0.01 (absolute)
            tolerance = DEFAULT_TOLERANCE if raw_tolerance is None else parse_tolerance(
                str(raw_tolerance) if not isinstance(raw_tolerance, bool) else "")
        except NumberError:
            raise section.error("drift_tolerance", "must be a percentage of the earlier value like 5% or an absolute "
                                f"amount like 0.01, not {raw_tolerance!r}") from None
        return cls(
            project_root=root,
            demos_dir=root / "demos",
            cache_dir=cache_dir,
            timeout_s=timeout,
            jobs=int(jobs),
            device=requested.lower(),
            memory_gib=memory,
            docs_dir=docs,
            remote=remote,
            remote_options=dict(remote_options),
            remote_readonly=os.environ.get("DEMOS_REMOTE_READONLY", "") not in ("", "0") or section.flag("remote_readonly", False),
            executor=executor,
            network_timeout=network_timeout,
            serve_background=section.flag("serve_background", True),
            drift_tolerance=tolerance,
        )


def _move_legacy_cache(root: Path) -> None:
    """Move ``.cache/demos`` (where the cache used to be) to ``.demos-cache`` once."""
    old, new = root / LEGACY_CACHE_DIR, root / DEFAULT_CACHE_DIR
    if old.is_dir() and not new.exists() and (old / "entries").is_dir():
        try:
            os.rename(old, new)
            from hooks.figures.cache import mark_as_cache

            mark_as_cache(new)
        except OSError:
            pass  # left where it is: the next run makes a new cache, nothing is lost


# --- devices ---------------------------------------------------------------------------------------

def _torch_cuda_build() -> str | None:
    """The CUDA version the installed torch was built for (None for a CPU build), read without importing it."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        try:
            text = (Path(folder) / "version.py").read_text(encoding="utf-8")
        except OSError:
            continue
        m = re.search(r"^cuda(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", text, re.M)
        return m.group(1) if m else None
    return None


def cuda_missing() -> str | None:
    """Why this machine cannot run CUDA, or None when it can (an NVIDIA driver and a CUDA build of torch)."""
    if _torch_cuda_build() is None:
        return "the installed torch is a CPU build"
    if not (Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidia0").exists()):
        return "no NVIDIA driver is present"
    return None


def cuda_available() -> bool:
    """An NVIDIA driver is present and the installed torch is a CUDA build."""
    return cuda_missing() is None


def machine_device(requested: str = "auto") -> str:
    """What this machine gives demos that can use a GPU: ``cuda`` or ``cpu``."""
    requested = (requested or "auto").lower()
    if requested == "cpu":
        return "cpu"
    why = cuda_missing()
    if why is None:
        return "cuda"
    if requested == "cuda":
        raise ConfigError(f"device 'cuda' was asked for but this machine cannot run CUDA ({why}); use --device cpu or auto")
    return "cpu"


def job_device(spec: DemoSpec, machine: str) -> str:
    """The device a demo runs on: its DEVICE says what it can use, the machine what there is."""
    if spec.device == "cpu":
        return "cpu"
    if spec.device == "cuda":
        return "cuda"
    return machine


# --- keys ------------------------------------------------------------------------------------------

def library_versions() -> dict[str, str]:
    """Installed versions of the libraries in the key, read from package metadata (no import)."""
    versions = {}
    for lib in KEY_LIBRARIES:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = "absent"
    return versions


def key_material(spec: DemoSpec, params: dict[str, Any], device: str, versions: dict[str, str], project_root: Path) -> dict[str, Any]:
    """What a run's cache key is made of: the demo's source and local imports (each file's SHA-256), its
    parameters, the device and library versions.

    Versions enter without their local build tag (``2.13.0+cpu`` is ``2.13.0``): a CPU demo run on a
    CUDA build of the same torch computes the same thing. A demo that needs a GPU (``DEVICE =
    "cuda"``) is keyed on its code, parameters and device alone, since it is made on a GPU box
    whose library builds differ from the machines that reuse it; its manifest records them.
    """
    sources = {}
    for path in spec.local_modules:
        try:
            rel = path.resolve().relative_to(project_root.resolve()).as_posix()
        except ValueError:
            rel = path.name
        sources[rel] = sha256_file(path)
    material = {
        "demo": spec.name,
        "sources": dict(sorted(sources.items())),
        "params": dict(sorted(params.items())),
        "device": device.split(":")[0],
    }
    if spec.device != "cuda":
        material["versions"] = {lib: v.split("+")[0] for lib, v in sorted(versions.items())}
    return material


def cache_key(material: dict[str, Any]) -> str:
    """The cache key of a run: a hash of its :func:`key_material`."""
    blob = json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
    return digest_of(blob, length=20)


def why_rerun(before: dict[str, Any] | None, now: dict[str, Any]) -> list[str]:
    """What differs between the key material of the run a new run replaces and its own, one phrase
    each ("demos/_common.py changed", "parameter lr: 0.1 → 0.2", "torch 2.12.0 → 2.13.0", ...), in
    the order sources, parameters, device, versions; nothing where the run replaced recorded no key
    material (made before runs recorded it): what changed cannot be told."""
    if not isinstance(before, dict):
        return []
    out = []
    old_sources, new_sources = before.get("sources") or {}, now.get("sources") or {}
    for path in sorted(old_sources.keys() | new_sources.keys()):
        if path not in old_sources:
            out.append(f"{path} is imported now")
        elif path not in new_sources:
            out.append(f"{path} is no longer imported")
        elif old_sources[path] != new_sources[path]:
            out.append(f"{path} changed")
    old_params, new_params = before.get("params") or {}, now.get("params") or {}
    for name in sorted(old_params.keys() | new_params.keys()):
        if old_params.get(name) != new_params.get(name):
            out.append(f"parameter {name}: {old_params.get(name, 'unset')} → {new_params.get(name, 'unset')}")
    if before.get("device") != now.get("device"):
        out.append(f"device {before.get('device')} → {now.get('device')}")
    old_versions, new_versions = before.get("versions") or {}, now.get("versions") or {}
    for lib in sorted(old_versions.keys() | new_versions.keys()):
        if old_versions.get(lib) != new_versions.get(lib):
            out.append(f"{lib} {old_versions.get(lib, 'absent')} → {new_versions.get(lib, 'absent')}")
    return out


# --- jobs ------------------------------------------------------------------------------------------

def plan_jobs(
    settings: Settings,
    refs: Iterable[FigureRef],
    specs: SpecCache,
    only: Iterable[str] | None = None,
    include_defaults: bool = True,
    extra_runs: Iterable[tuple[str, dict[str, Any]]] = (),
) -> tuple[list[Job], list[Problem]]:
    """One job per distinct (demo, parameters): every referenced run, plus each demo's default run.

    ``extra_runs``: further ``(demo, overrides)`` to run, e.g. seeds for a robustness check.
    """
    from hooks.figures.spec import resolve_params

    machine = machine_device(settings.device)
    versions = library_versions()
    wanted = set(only) if only else None
    jobs: dict[tuple[str, str], Job] = {}
    problems: list[Problem] = []

    def add(spec: DemoSpec, params: dict[str, Any], overrides: dict[str, Any], page: str | None) -> None:
        pid = params_id(overrides)
        job = jobs.get((spec.name, pid))
        if job is None:
            device = job_device(spec, machine)
            material = key_material(spec, params, device, versions, settings.project_root)
            key = cache_key(material)
            timeout = spec.timeout_s or settings.timeout_s
            runnable = not (device == "cuda" and machine != "cuda") or settings.executor != "local"  # a cluster may have GPUs
            job = jobs[(spec.name, pid)] = Job(spec, params, overrides, pid, key, device, timeout, runnable=runnable, material=material)
        if page and page not in job.pages:
            job.pages.append(page)

    if include_defaults:
        for name in demo_names(settings.demos_dir):
            if wanted is None or name in wanted:
                try:
                    spec = specs.get(name)
                except DemoError as exc:
                    problems.append(exc.problem(f"demos/{name}.py"))
                    continue
                add(spec, spec.defaults(), {}, None)
    for ref in refs:
        if wanted is None or ref.demo in wanted:
            for params, overrides, _ in ref.runs:  # a swept figure: one run per value
                add(specs.get(ref.demo), params, overrides, ref.display_path)
    for name, raw in extra_runs:
        try:
            spec = specs.get(name)
            params, changed = resolve_params(spec, raw)
        except DemoError as exc:
            problems.append(exc.problem(f"demos/{name}.py"))
            continue
        add(spec, params, changed, None)
    return sorted(jobs.values(), key=lambda j: (j.name, j.params_id)), problems
