"""The demo cache: content-addressed entries, written atomically and only after a successful run.

Layout under the cache root::

    .demos-cache             a marker: this folder was made by the demo cache, which may delete what it made in it
    entries/NAME/KEY/        one finished run: figures, data.json, log.txt, the demo's source, manifest.json
    tmp/KEY.RANDOM/          a run in progress (its files are copied into an entry when it succeeds)
    tmp/KEY.RANDOM.lock      held by the build running it, for as long as it runs
    locks/KEY.lock           held while a key is being computed, so two builds do not run it twice

The cache deletes only what it made: it refuses a root that holds other files and no marker, and
in ``tmp/`` it removes only folders named as above whose lock nobody holds (the build that made
them is gone, whatever its PID namespace). An entry's manifest lists a SHA-256 of every file; an
entry whose files do not match, or whose manifest is malformed (hooks.figures.validate), is damaged
and is treated as missing (and removed), so the demo runs again.
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from hooks.figures.model import Entry
from hooks.figures.validate import MANIFEST, MAX_MANIFEST_BYTES, manifest_problem
from hooks.hashing import sha256_file

MARKER = ".demos-cache"
KEEP_PER_PARAMS = 3  # finished entries kept per demo and parameter set (older ones are pruned)
TMP_NAME_RE = re.compile(r"^[0-9a-f]{20}\.[0-9a-f]{12}$")


class CacheError(RuntimeError):
    """The cache folder cannot be used (not writable, not a folder, not ours, disk full)."""


def mark_as_cache(root: Path) -> None:
    (root / MARKER).write_text(json.dumps({"made_by": "dl-notes demo cache", "layout": 2}) + "\n", encoding="utf-8")


def os_error_text(exc: OSError) -> str:
    """An OSError as a person reads it: 'no space left on device', not a traceback."""
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    if exc.errno == errno.EDQUOT:
        return "disk quota exceeded"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "not writable" if exc.errno != errno.EROFS else "on a read-only file system"
    return (exc.strerror or str(exc)).lower()


def ownership_problem(root: Path) -> str | None:
    """Why ``root`` cannot be the cache's folder (it holds files the cache did not make, ...), or None."""
    root = Path(root)
    if not root.exists():
        return None
    if not root.is_dir():
        return "is not a folder; give the cache a folder of its own (extra.demos.cache_dir or DEMOS_CACHE_DIR)"
    if (root / MARKER).is_file():
        return None
    try:
        contents = sorted(p.name for p in root.iterdir())
    except OSError as exc:
        return f"cannot be read ({os_error_text(exc)})"
    if contents:
        shown = ", ".join(contents[:3]) + (", …" if len(contents) > 3 else "")
        return (f"holds files the cache did not make ({shown}) and no {MARKER} marker; "
                "give the cache a new or empty folder (extra.demos.cache_dir or DEMOS_CACHE_DIR)")
    return None


class DemoCache:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    # -- set-up --------------------------------------------------------------------------------
    def check_ownership(self) -> None:
        """Refuse a root that exists, holds files and was not made by the demo cache."""
        reason = ownership_problem(self.root)
        if reason:
            raise CacheError(f"demo cache folder {self.root} {reason}")

    def ensure_writable(self) -> None:
        """Create the folders (and the marker), or raise CacheError naming the folder and what to do."""
        self.check_ownership()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if not (self.root / MARKER).is_file():
                mark_as_cache(self.root)
            for sub in ("entries", "tmp", "locks"):
                (self.root / sub).mkdir(exist_ok=True)
            probe = self.root / "tmp" / f".probe-{uuid.uuid4().hex[:8]}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise CacheError(
                f"demo cache folder {self.root} cannot be written ({os_error_text(exc)}); "
                "fix its permissions or set extra.demos.cache_dir in mkdocs.yml to a writable folder"
            ) from None

    def lock_path(self, key: str) -> Path:
        return self.root / "locks" / f"{key}.lock"

    def new_tmp_dir(self, key: str) -> tuple[Path, FileLock]:
        """A folder for one run in progress and its lock, already held (release it when the run ends)."""
        name = f"{key}.{uuid.uuid4().hex[:12]}"
        lock = FileLock(str(self.root / "tmp" / f"{name}.lock"))
        lock.acquire()
        path = self.root / "tmp" / name
        path.mkdir()
        return path, lock

    def clean_tmp(self) -> int:
        """Remove unfinished runs left by killed builds: folders the cache named, whose lock nobody holds."""
        removed = 0
        tmp = self.root / "tmp"
        if not (self.root / MARKER).is_file() or not tmp.is_dir():
            return 0
        for path in tmp.iterdir():
            if not TMP_NAME_RE.match(path.name) or not path.is_dir() or path.is_symlink():
                continue
            lock = FileLock(str(tmp / f"{path.name}.lock"))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue  # a build is running it (possibly in another container)
            try:  # the lock was free: the build that made this folder has ended without cleaning up
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
            finally:
                lock.release()
                try:
                    os.unlink(tmp / f"{path.name}.lock")
                except OSError:
                    pass
        return removed

    # -- reading -------------------------------------------------------------------------------
    def entry_dir(self, name: str, key: str) -> Path:
        return self.root / "entries" / name / key

    def lookup(self, name: str, key: str) -> Entry | None:
        """The verified entry for ``key``, or None; a damaged entry is removed."""
        return self.lookup_or_why(name, key)[0]

    def lookup_or_why(self, name: str, key: str) -> tuple[Entry | None, str]:
        """The verified entry for ``key`` and '', or None and why a damaged entry was removed ('' when there was none)."""
        path = self.entry_dir(name, key)
        entry, why = _read_entry(path)
        if entry is None:
            if path.exists():
                _remove_entry(path)
                return None, f"demo cache: the entry of {name} [{key}] is damaged ({why}); removed, running it again"
            return None, ""
        return entry, ""

    def last_good(self, name: str, params_id: str, exclude_key: str | None = None) -> Entry | None:
        """The newest verified entry of this demo and parameter set (for a stale figure)."""
        best = None
        base = self.root / "entries" / name
        if not base.is_dir():
            return None
        for path in base.iterdir():
            if path.name == exclude_key or path.name.startswith("."):
                continue
            entry = _read_entry(path)[0]
            if entry and entry.manifest.get("params_id") == params_id:
                if best is None or entry.manifest.get("finished_at", "") > best.manifest.get("finished_at", ""):
                    best = entry
        return best

    # -- writing -------------------------------------------------------------------------------
    def commit(self, tmp_dir: Path, name: str, key: str, manifest: dict[str, Any], replace: bool = False) -> Entry:
        """Checksum the files of ``tmp_dir``, write its manifest, and rename it into place atomically.

        With ``replace`` (a forced rerun) a sound entry of the same key is replaced by the new one;
        otherwise the first sound entry wins (two builds computing the same key at once).
        """
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
        existing = _read_entry(final)[0] if final.exists() else None
        if existing is not None and not replace:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            return existing
        if final.exists():
            _remove_entry(final)  # damaged, or replaced by a forced run: moved aside first, then deleted
        os.rename(tmp_dir, final)
        self._prune(name, manifest.get("params_id", "default"), keep=key)
        entry, why = _read_entry(final)
        if entry is None:
            raise CacheError(f"the entry {final} could not be read back after it was written ({why}); check the disk")
        return entry

    def _prune(self, name: str, params_id: str, keep: str) -> None:
        base = self.root / "entries" / name
        entries = []
        for path in base.iterdir():
            try:
                m = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError):
                continue
            if isinstance(m, dict) and m.get("params_id") == params_id:
                entries.append((str(m.get("finished_at", "")), path))
        entries.sort(reverse=True)
        for _, path in entries[KEEP_PER_PARAMS:]:
            if path.name != keep:
                _remove_entry(path)


def _read_entry(path: Path) -> tuple[Entry | None, str]:
    """The entry in ``path`` and '', or None and why it cannot be used (its manifest is malformed, a file changed)."""
    try:
        with open(path / MANIFEST, "rb") as f:
            raw = f.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            return None, "its manifest is too large"
        manifest = json.loads(raw)
    except OSError as exc:
        return None, f"its manifest cannot be read: {os_error_text(exc)}"
    except (ValueError, RecursionError):
        return None, "its manifest is not JSON"
    problem = manifest_problem(manifest, name=path.parent.name, key=path.name)
    if problem:
        return None, f"its manifest is malformed: {problem}"
    for fname, digest in manifest["files"].items():
        try:
            if sha256_file(path / fname) != digest:
                return None, f"{fname} does not match its checksum"
        except OSError as exc:
            return None, f"{fname} cannot be read: {os_error_text(exc)}"
    return Entry(path, manifest), ""


def _remove_entry(path: Path) -> None:
    """Move aside first so that no reader ever sees a half-deleted entry."""
    trash = path.parent / f".trash-{path.name}-{uuid.uuid4().hex[:6]}"
    try:
        os.rename(path, trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)
