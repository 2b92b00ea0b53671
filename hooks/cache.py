"""The demo cache: content-addressed entries, written atomically and only after a successful run.

Layout under the cache root::

    entries/NAME/KEY/            one finished run: figures, data.json, log.txt, manifest.json
    tmp/KEY.PID.RANDOM/          a run in progress (renamed into entries/ when it succeeds)
    locks/KEY.lock               held while a key is being computed, so two builds do not run it twice

An entry's manifest lists a SHA-256 of every file; an entry whose files do not match is damaged and
is treated as missing (and removed), so the demo runs again.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from hooks.demo_spec import DemoSpec

MANIFEST = "manifest.json"
KEY_LIBRARIES = ("torch", "numpy", "matplotlib")
STALE_TMP_SECONDS = 24 * 3600
KEEP_PER_PARAMS = 3  # finished entries kept per demo and parameter set (older ones are pruned)


class CacheError(RuntimeError):
    """The cache folder cannot be used (not writable, not a folder)."""


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries in the key, read from package metadata (no import)."""
    versions = {}
    for lib in KEY_LIBRARIES:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = "absent"
    return versions


def detect_device(requested: str = "auto") -> str:
    """``cuda`` when an NVIDIA driver is present and asked for (or auto), else ``cpu``; no torch import."""
    requested = (requested or "auto").lower()
    if requested != "auto":
        return requested
    return "cuda" if Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidia0").exists() else "cpu"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_key(spec: DemoSpec, params: dict[str, Any], device: str, versions: dict[str, str], project_root: Path) -> str:
    """Hash of the demo's source and local imports, its parameters, library versions and device kind."""
    sources = {}
    for path in spec.local_modules:
        try:
            rel = path.resolve().relative_to(project_root.resolve()).as_posix()
        except ValueError:
            rel = path.name
        sources[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    material = {
        "demo": spec.name,
        "sources": dict(sorted(sources.items())),
        "params": dict(sorted(params.items())),
        "versions": dict(sorted(versions.items())),
        "device": device.split(":")[0],
    }
    blob = json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


@dataclass
class Entry:
    """A finished, verified cache entry."""

    path: Path
    manifest: dict[str, Any]

    @property
    def key(self) -> str:
        return self.manifest["key"]

    def file(self, name: str) -> Path:
        return self.path / name


class DemoCache:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    # -- set-up --------------------------------------------------------------------------------
    def ensure_writable(self) -> None:
        """Create the folders, or raise CacheError naming the folder and what to do."""
        try:
            for sub in ("entries", "tmp", "locks"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            probe = self.root / "tmp" / f".probe-{os.getpid()}-{uuid.uuid4().hex[:6]}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise CacheError(
                f"demo cache folder {self.root} cannot be written ({exc.strerror or exc}); "
                "fix its permissions or set extra.demos.cache_dir in mkdocs.yml to a writable folder"
            ) from None

    def lock_path(self, key: str) -> Path:
        return self.root / "locks" / f"{key}.lock"

    def new_tmp_dir(self, key: str) -> Path:
        path = self.root / "tmp" / f"{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    def clean_tmp(self) -> int:
        """Remove unfinished runs left by killed builds (their process is gone or they are a day old)."""
        removed = 0
        tmp = self.root / "tmp"
        if not tmp.is_dir():
            return 0
        for path in tmp.iterdir():
            parts = path.name.split(".")
            pid = int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() else None
            alive = pid is not None and pid != os.getpid() and _pid_alive(pid)
            old = time.time() - path.stat().st_mtime > STALE_TMP_SECONDS
            if (pid is not None and not alive and pid != os.getpid()) or old:
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
        return removed

    # -- reading -------------------------------------------------------------------------------
    def entry_dir(self, name: str, key: str) -> Path:
        return self.root / "entries" / name / key

    def lookup(self, name: str, key: str) -> Entry | None:
        """The verified entry for ``key``, or None; a damaged entry is removed."""
        path = self.entry_dir(name, key)
        entry = _read_entry(path)
        if entry is None:
            if path.exists():
                _remove_entry(path)
            return None
        return entry

    def last_good(self, name: str, params_id: str, exclude_key: str | None = None) -> Entry | None:
        """The newest verified entry of this demo and parameter set (for a stale figure)."""
        best = None
        base = self.root / "entries" / name
        if not base.is_dir():
            return None
        for path in base.iterdir():
            if path.name == exclude_key or path.name.startswith("."):
                continue
            entry = _read_entry(path)
            if entry and entry.manifest.get("params_id") == params_id:
                if best is None or entry.manifest.get("finished_at", "") > best.manifest.get("finished_at", ""):
                    best = entry
        return best

    # -- writing -------------------------------------------------------------------------------
    def commit(self, tmp_dir: Path, name: str, key: str, manifest: dict[str, Any]) -> Entry:
        """Checksum the files of ``tmp_dir``, write its manifest, and rename it into place atomically."""
        files = {}
        for path in sorted(tmp_dir.iterdir()):
            if path.is_file() and path.name != MANIFEST:
                files[path.name] = sha256_file(path)
        manifest = dict(manifest, key=key, files=files)
        tmp_manifest = tmp_dir / (MANIFEST + ".part")
        tmp_manifest.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp_manifest, tmp_dir / MANIFEST)
        final = self.entry_dir(name, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(tmp_dir, final)
        except OSError:
            # Another build finished the same key first; keep its entry if it is sound.
            existing = _read_entry(final)
            if existing is None:
                _remove_entry(final)
                os.rename(tmp_dir, final)
            else:
                shutil.rmtree(tmp_dir, ignore_errors=True)
                return existing
        self._prune(name, manifest.get("params_id", "default"), keep=key)
        entry = _read_entry(final)
        assert entry is not None
        return entry

    def _prune(self, name: str, params_id: str, keep: str) -> None:
        base = self.root / "entries" / name
        entries = []
        for path in base.iterdir():
            try:
                m = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if m.get("params_id") == params_id:
                entries.append((m.get("finished_at", ""), path))
        entries.sort(reverse=True)
        for _, path in entries[KEEP_PER_PARAMS:]:
            if path.name != keep:
                _remove_entry(path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_entry(path: Path) -> Entry | None:
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
        for fname, digest in files.items():
            if sha256_file(path / fname) != digest:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Entry(path, manifest)


def _remove_entry(path: Path) -> None:
    """Move aside first so that no reader ever sees a half-deleted entry."""
    trash = path.parent / f".trash-{path.name}-{uuid.uuid4().hex[:6]}"
    try:
        os.rename(path, trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)
