"""A shared demo cache in object storage: any fsspec URL (``s3://bucket/prefix``, ``gs://``, ``file:///``, ``sftp://``).

Layout under the URL::

    objects/AB/ABCDEF...        one file of an entry, named by its SHA-256 (written once, never changed)
    entries/NAME/KEY.json       the entry's manifest: every file's name and SHA-256, what made the run

A push writes the objects first and the manifest last, so an entry is seen complete or not at all;
two machines pushing the same key at once each write whole objects, and whichever manifest lands
last names a complete set. A pull reads the manifest, fetches each object, checks its SHA-256 and
installs the entry into the local cache atomically; anything missing or damaged is reported in one
line and ignored (the run happens here instead, and its push replaces the bad entry).

A remote entry is trusted no further than it is checked: its manifest must have the fields and types
of one (hooks.figures.validate), name only the files the demo's FIGURES promise (each figure in light
and dark, data.json, the log and the source), each within its size cap (read with a range, so an
oversized object is never fetched whole), and every figure must be an SVG without script. A remote
that fails to answer (refused, garbage, silent past ``timeout``) is reported in one line and not
used again by this process: the build goes on as without a remote, and pushes are skipped.

fsspec and the backend's package (s3fs for S3) are imported only when a remote is configured.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from hooks.figures.cache import DemoCache
from hooks.figures.model import Entry
from hooks.figures.validate import MAX_ENTRY_BYTES, MAX_MANIFEST_BYTES, manifest_problem, size_cap, svg_problem
from hooks.hashing import digest_of, sha256_file

DEFAULT_TIMEOUT_S = 20.0  # extra.demos.network_timeout: connecting, and waiting for an answer


class RemoteError(RuntimeError):
    """The remote cache cannot be used (bad URL, missing backend package, refused credentials)."""


class _TooLarge(Exception):
    """A remote file is larger than an entry's file may be (its size is the argument)."""


class _Unavailable(Exception):
    """The remote failed to answer one request (refused, garbage, timed out): not used again by this process."""


@dataclass
class Transfer:
    """What one pull or push moved."""

    entries: int = 0
    files: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: "Transfer") -> None:
        self.entries += other.entries
        self.files += other.files
        self.bytes += other.bytes
        self.problems += other.problems


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"


class RemoteCache:
    def __init__(self, url: str, options: dict[str, Any] | None = None, readonly: bool = False,
                 timeout_s: float = DEFAULT_TIMEOUT_S):
        try:
            import fsspec
        except ImportError:
            raise RemoteError(f"the remote demo cache {url} needs fsspec; install the project with its 'remote' extra") from None
        self.url = url.rstrip("/")
        self.readonly = readonly
        self.timeout_s = float(timeout_s)
        self.down = ""  # why this remote is not used any more in this process ('' while it answers)
        self._said = {"down": False, "push": False}
        self._lock = threading.Lock()
        options = dict(options or {})
        try:
            protocol = fsspec.utils.get_protocol(self.url)
        except (TypeError, ValueError):
            protocol = ""
        if protocol in ("s3", "s3a"):
            # botocore's defaults (60 s per read, several retries) and s3fs' own retries turn an endpoint that
            # never answers into minutes of silence; the user's own config_kwargs win over these.
            config = dict(options.get("config_kwargs") or {})
            config.setdefault("connect_timeout", self.timeout_s)
            config.setdefault("read_timeout", self.timeout_s)
            config.setdefault("retries", {"max_attempts": 2, "mode": "standard"})
            options["config_kwargs"] = config
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url, **options)
        except ImportError as exc:
            raise RemoteError(f"the remote demo cache {url} needs a package for its protocol ({exc}); e.g. pip install s3fs") from None
        except (ValueError, TypeError) as exc:
            raise RemoteError(f"the remote demo cache {url} cannot be opened ({exc})") from None
        if isinstance(getattr(self.fs, "retries", None), int):
            self.fs.retries = min(self.fs.retries, 2)  # s3fs retries each request five times with back-off on top of botocore
        self.local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))
        self.root = self.root.rstrip("/")

    # -- paths ---------------------------------------------------------------------------------------
    def _object(self, digest: str) -> str:
        return f"{self.root}/objects/{digest[:2]}/{digest}"

    def _manifest(self, name: str, key: str) -> str:
        return f"{self.root}/entries/{name}/{key}.json"

    # -- every request goes through here -----------------------------------------------------------
    def _call(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One request to the remote, bounded in time; FileNotFoundError passes, any other failure
        marks the remote down and raises _Unavailable."""
        if self.down:
            raise _Unavailable(self.down)
        if getattr(self.fs, "async_impl", False):
            kwargs["timeout"] = 3 * self.timeout_s  # fsspec's bound on the whole call, retries included
        try:
            return method(*args, **kwargs)
        except FileNotFoundError:
            raise
        except Exception as exc:  # botocore's and aiohttp's errors are not OSErrors; any failure means the same here
            timed_out = isinstance(exc, TimeoutError) or "timeout" in type(exc).__name__.lower()
            why = f"did not answer within {self.timeout_s:g} s ({what})" if timed_out else f"cannot be used ({what}: {_one_line(exc)})"
            with self._lock:
                self.down = self.down or why
            raise _Unavailable(self.down) from None

    def _down_line(self) -> list[str]:
        """The one line that says the remote is not used, the first time it is asked for."""
        with self._lock:
            if self._said["down"]:
                return []
            self._said["down"] = True
        return [f"remote cache {self.url} {self.down}; building without it"]

    def _read(self, path: str, cap: int) -> bytes:
        """A file's bytes, at most ``cap`` + 1 of them (more than ``cap`` means too large): its size is
        asked first, and the read is a range, so an object that grows in between is not read whole either."""
        size = self._call(f"reading {path}", self.fs.size, path)
        if isinstance(size, int) and size > cap:
            raise _TooLarge(size)  # not fetched at all
        if size == 0:
            return b""  # S3 refuses a range of an empty object
        data = self._call(f"reading {path}", self.fs.cat_file, path, start=0, end=cap + 1)
        if len(data) > cap:
            raise _TooLarge(len(data))
        return data

    def _write(self, path: str, data: bytes) -> None:
        """Write one object whole: on a local file system through a temporary name and a rename."""
        if self.local:
            folder = os.path.dirname(path)
            os.makedirs(folder, exist_ok=True)
            part = f"{path}.{uuid.uuid4().hex[:8]}.part"
            with open(part, "wb") as handle:
                handle.write(data)
            os.replace(part, path)
        else:
            self._call(f"writing {path}", self.fs.pipe_file, path, data)

    # -- reading -------------------------------------------------------------------------------------
    def has(self, name: str, key: str) -> bool:
        path = self._manifest(name, key)
        try:
            self.fs.invalidate_cache(path)  # another machine may have pushed since this process listed it
            return bool(self._call(f"looking up {path}", self.fs.exists, path))
        except (_Unavailable, FileNotFoundError):
            return False

    def pull(self, name: str, key: str, cache: DemoCache, figures: Iterable[str] | None = None) -> tuple[Entry | None, Transfer]:
        """Install the remote entry of ``key`` into the local cache; (None, why) when there is none or it is bad.

        ``figures``: what the demo's FIGURES promise; the entry must hold exactly these figures. Without
        it (an explicit sync) the figures the manifest lists are taken, each still checked to be a safe SVG.
        """
        moved = Transfer()
        where = f"remote cache {self.url}"

        def bad(why: str) -> tuple[None, Transfer]:
            moved.problems.append(f"{where}: {why}; ignored, running it here")
            return None, moved

        if self.down:
            moved.problems += self._down_line()
            return None, moved
        try:
            raw = self._read(self._manifest(name, key), MAX_MANIFEST_BYTES)
        except FileNotFoundError:
            return None, moved
        except _Unavailable:
            moved.problems += self._down_line()
            return None, moved
        except _TooLarge:
            return bad(f"the manifest of {name} [{key}] is damaged (larger than {MAX_MANIFEST_BYTES // 1024} KiB)")
        moved.bytes += len(raw)
        try:
            manifest = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            return bad(f"the manifest of {name} [{key}] is damaged (not JSON: {exc})")
        problem = manifest_problem(manifest, name=name, key=key, promised=figures)
        if problem:
            return bad(f"the manifest of {name} [{key}] is damaged ({problem})")
        files: dict[str, str] = manifest["files"]
        cache.ensure_writable()
        tmp, lock = cache.new_tmp_dir(key)
        total = 0
        try:
            for fname, digest in sorted(files.items()):
                cap = size_cap(fname)
                try:
                    data = self._read(self._object(digest), cap)
                except FileNotFoundError:
                    return bad(f"{name} [{key}] lacks {fname}")
                except _Unavailable:
                    moved.problems += self._down_line()
                    return None, moved
                except _TooLarge as exc:
                    return bad(f"{fname} of {name} [{key}] is larger than the {cap / 1024 / 1024:g} MiB it may take ({exc} bytes)")
                total += len(data)
                if total > MAX_ENTRY_BYTES:
                    return bad(f"{name} [{key}] is larger than the {MAX_ENTRY_BYTES // 1024 // 1024} MiB an entry may take")
                if digest_of(data) != digest:
                    return bad(f"{fname} of {name} [{key}] does not match its checksum")
                if fname.endswith(".svg"):
                    unsafe = svg_problem(data)
                    if unsafe:
                        return bad(f"{fname} of {name} [{key}] is not a safe SVG ({unsafe})")
                (tmp / fname).write_bytes(data)
                moved.files += 1
                moved.bytes += len(data)
            try:
                json.loads((tmp / "data.json").read_bytes())
            except (ValueError, RecursionError) as exc:
                return bad(f"data.json of {name} [{key}] is not JSON ({exc})")
            meta = {k: v for k, v in manifest.items() if k not in ("files", "key")}
            entry = cache.commit(tmp, name, key, meta)
            moved.entries += 1
            return entry, moved
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            lock.release()
            try:
                os.unlink(lock.lock_file)
            except OSError:
                pass

    # -- writing -------------------------------------------------------------------------------------
    def push(self, entry: Entry) -> Transfer:
        """Upload a verified local entry: objects first, the manifest last. Skipped (one line) when the remote is down."""
        moved = Transfer()
        if self.readonly:
            return moved
        if self.down:
            with self._lock:
                said, self._said["push"] = self._said["push"], True
            if not said:
                moved.problems.append(f"remote cache {self.url} is not used in this build (it failed to answer, see above); new runs are not pushed")
            return moved
        manifest = dict(entry.manifest)
        try:
            for fname, digest in sorted(manifest["files"].items()):
                path = entry.file(fname)
                if sha256_file(path) != digest:
                    moved.problems.append(f"local entry {entry.path} changed since it was made; not pushed")
                    return moved
                data = path.read_bytes()
                self._write(self._object(digest), data)
                moved.files += 1
                moved.bytes += len(data)
            blob = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
            self._write(self._manifest(manifest["demo"], manifest["key"]), blob)
        except _Unavailable:
            moved.problems += self._down_line() or [f"remote cache {self.url}: {manifest['demo']} [{manifest['key']}] not pushed ({self.down})"]
            return moved
        except OSError as exc:
            moved.problems.append(f"remote cache {self.url}: the new entry of {manifest['demo']} [{manifest['key']}] could not be pushed ({exc})")
            return moved
        moved.bytes += len(blob)
        moved.entries += 1
        return moved


def open_remote(url: str | None, options: dict[str, Any] | None = None, readonly: bool = False,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> RemoteCache | None:
    """The configured remote cache, or None when there is none (nothing is imported then)."""
    return RemoteCache(url, options, readonly, timeout_s) if url else None
