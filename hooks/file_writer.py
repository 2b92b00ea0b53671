"""Many small files written by a process of its own, on another core, while the build renders pages.

At 1,000 notes a build writes a preview (a small JSON file) beside every note and concept: a
thousand folders made and a thousand files opened, written and closed, work that is almost all in
the operating system and that the build's own process did one file after another. A thread would
not help: each return from a system call waits for the interpreter's lock, which the page
rendering holds. So the build hands the files to ``python -m hooks.file_writer`` (paths and texts
as JSON on its standard input, from a temporary file) as soon as it knows them, and waits for it
after the last page is written. Should the process fail for any reason, the build writes what it
was given itself, where an error (a full disk, a folder that cannot be written) shows itself.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_PROJECT_ROOT = Path(__file__).resolve().parent.parent


def write_files(files: dict[str, str]) -> None:
    """Write every text of ``files`` (absolute path -> text) as UTF-8, making the folders it needs."""
    made: set[str] = set()
    for path, text in files.items():
        folder = os.path.dirname(path)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with open(path, "wb") as f:
            f.write(text.encode("utf-8"))


class FileWriter:
    """The files given, being written now by a process of its own; :meth:`finish` waits for them."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self._proc: subprocess.Popen | None = None
        if not files:
            return
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
        try:
            with tempfile.TemporaryFile() as payload:  # read by the process as its standard input
                payload.write(json.dumps(files, ensure_ascii=False).encode("utf-8"))
                payload.seek(0)
                self._proc = subprocess.Popen([sys.executable, "-m", "hooks.file_writer"], stdin=payload,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                              cwd=str(_PROJECT_ROOT))
        except OSError:
            self._proc = None

    def finish(self) -> None:
        """Wait until every file is written; what the process did not write is written here (an
        OSError raised here names the file)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.wait() == 0:
            return
        write_files(self.files)

    def cancel(self) -> None:
        """Stop writing (the build failed): the files may be partly written."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()


def main() -> None:
    write_files(json.loads(sys.stdin.buffer.read()))


if __name__ == "__main__":
    main()
