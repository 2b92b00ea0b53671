"""A shared demo cache in object storage: any fsspec URL (``s3://bucket/prefix``, ``gs://``, ``file:///``, ``sftp://``).

Layout under the URL::

    objects/AB/ABCDEF...        one file of an entry, named by its SHA-256 (written once, never changed)
    entries/NAME/KEY.json       the entry's manifest: every file's name and SHA-256, what made the run

A push writes the objects first and the manifest last, so an entry is seen complete or not at all;
two machines pushing the same key at once each write whole objects, and whichever manifest lands
last names a complete set. A pull reads the manifest, fetches each object, checks its SHA-256 and
installs the entry into the local cache atomically; anything missing or damaged is reported in one
line and ignored (the run happens here instead, and its push replaces the bad entry).

fsspec and the backend's package (s3fs for S3) are imported only when a remote is configured.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

from hooks.figures.cache import MANIFEST, DemoCache
from hooks.figures.model import Entry
from hooks.hashing import digest_of, sha256_file


class RemoteError(RuntimeError):
    """The remote cache cannot be used (bad URL, missing backend package, refused credentials)."""


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


class RemoteCache:
    def __init__(self, url: str, options: dict[str, Any] | None = None, readonly: bool = False):
        try:
            import fsspec
        except ImportError:
            raise RemoteError(f"the remote demo cache {url} needs fsspec; install the project with its 'remote' extra") from None
        self.url = url.rstrip("/")
        self.readonly = readonly
        options = dict(options or {})
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url, **options)
        except ImportError as exc:
            raise RemoteError(f"the remote demo cache {url} needs a package for its protocol ({exc}); e.g. pip install s3fs") from None
        except (ValueError, TypeError) as exc:
            raise RemoteError(f"the remote demo cache {url} cannot be opened ({exc})") from None
        self.local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))
        self.root = self.root.rstrip("/")

    # -- paths ---------------------------------------------------------------------------------------
    def _object(self, digest: str) -> str:
        return f"{self.root}/objects/{digest[:2]}/{digest}"

    def _manifest(self, name: str, key: str) -> str:
        return f"{self.root}/entries/{name}/{key}.json"

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
            self.fs.pipe_file(path, data)

    # -- reading -------------------------------------------------------------------------------------
    def has(self, name: str, key: str) -> bool:
        path = self._manifest(name, key)
        try:
            self.fs.invalidate_cache(path)  # another machine may have pushed since this process listed it
            return bool(self.fs.exists(path))
        except OSError:
            return False

    def pull(self, name: str, key: str, cache: DemoCache) -> tuple[Entry | None, Transfer]:
        """Install the remote entry of ``key`` into the local cache; (None, why) when there is none or it is bad."""
        moved = Transfer()
        try:
            raw = self.fs.cat_file(self._manifest(name, key))
        except FileNotFoundError:
            return None, moved
        except OSError as exc:
            moved.problems.append(f"remote cache {self.url}: {name} [{key}] cannot be read ({exc}); running it here")
            return None, moved
        moved.bytes += len(raw)
        try:
            manifest = json.loads(raw)
            files = dict(manifest["files"])
            if manifest.get("key") != key or not all(isinstance(d, str) and len(d) == 64 for d in files.values()):
                raise ValueError("it names another key or holds a malformed checksum")
            if any("/" in f or f.startswith(".") or f == MANIFEST for f in files):
                raise ValueError("it names a file outside the entry")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            moved.problems.append(f"remote cache {self.url}: the manifest of {name} [{key}] is damaged ({exc}); ignored, running it here")
            return None, moved
        cache.ensure_writable()
        tmp, lock = cache.new_tmp_dir(key)
        try:
            for fname, digest in sorted(files.items()):
                try:
                    data = self.fs.cat_file(self._object(digest))
                except (FileNotFoundError, OSError):
                    moved.problems.append(f"remote cache {self.url}: {name} [{key}] lacks {fname}; ignored, running it here")
                    return None, moved
                if digest_of(data) != digest:
                    moved.problems.append(f"remote cache {self.url}: {fname} of {name} [{key}] does not match its checksum; ignored, running it here")
                    return None, moved
                (tmp / fname).write_bytes(data)
                moved.files += 1
                moved.bytes += len(data)
            meta = {k: v for k, v in manifest.items() if k not in ("files", "key")}
            entry = cache.commit(tmp, name, key, meta)
            moved.entries += 1
            return entry, moved
        finally:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
            lock.release()
            try:
                os.unlink(lock.lock_file)
            except OSError:
                pass

    # -- writing -------------------------------------------------------------------------------------
    def push(self, entry: Entry) -> Transfer:
        """Upload a verified local entry: objects first, the manifest last."""
        moved = Transfer()
        if self.readonly:
            return moved
        manifest = dict(entry.manifest)
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
        moved.bytes += len(blob)
        moved.entries += 1
        return moved


def open_remote(url: str | None, options: dict[str, Any] | None = None, readonly: bool = False) -> RemoteCache | None:
    """The configured remote cache, or None when there is none (nothing is imported then)."""
    return RemoteCache(url, options, readonly) if url else None
