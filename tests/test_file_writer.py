"""hooks.file_writer: the files generated from memory, written by a process of its own."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hooks import file_writer
from hooks.file_writer import FileWriter


def _files(root: Path) -> dict[str, str]:
    return {str(root / f"notes/n{i}/preview.json"): f'{{"title": "Note {i} – é ✓"}}' for i in range(50)} | {
        str(root / "feed.xml"): "<rss/>\n"}


def test_the_process_writes_every_file_with_its_folders(tmp_path: Path, monkeypatch) -> None:
    files = _files(tmp_path)
    writer = FileWriter(files)
    assert writer._proc is not None  # written by the process, not here
    monkeypatch.setattr(file_writer, "write_files", lambda files: pytest.fail("written in the build's process"))
    writer.finish()
    assert {str(p): p.read_text(encoding="utf-8") for p in tmp_path.rglob("*") if p.is_file()} == files


def test_what_a_failed_process_did_not_write_is_written_by_the_build(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the process starts and fails at once
    files = _files(tmp_path)
    writer = FileWriter(files)
    writer.finish()
    assert {str(p): p.read_text(encoding="utf-8") for p in tmp_path.rglob("*") if p.is_file()} == files


def test_a_file_that_cannot_be_written_is_named_by_the_error(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("a file where a folder should be")
    files = {str(tmp_path / "notes/a/preview.json"): "{}"}
    writer = FileWriter(files)
    with pytest.raises(OSError) as caught:
        writer.finish()
    assert caught.value.filename == str(tmp_path / "notes/a")
