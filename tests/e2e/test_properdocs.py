"""The site built by ProperDocs (the maintained fork of MkDocs 1.6) is the site MkDocs builds.

The hooks import ``mkdocs.*``; under ProperDocs those imports resolve to its own modules. Both
builds use the same demo cache, so every file must match except the generator's own meta line.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import build_site

pytestmark = pytest.mark.e2e

GENERATOR_META = re.compile(rb'<meta name="generator" content="[^"]*">')


def tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): GENERATOR_META.sub(b"", p.read_bytes()) for p in site.rglob("*") if p.is_file()}


def test_properdocs_builds_the_same_site(built_site: Path, tmp_path: Path) -> None:
    pytest.importorskip("properdocs")
    other = tmp_path / "site"
    proc = build_site(other, generator_name="properdocs")
    assert proc.returncode == 0, proc.stderr[-4000:]
    ours, theirs = tree(built_site), tree(other)
    assert sorted(ours) == sorted(theirs)
    different = [name for name in ours if ours[name] != theirs[name]]
    assert different == [], f"files that differ beyond the generator's name: {different[:10]}"
    assert b"ProperDocs" in (other / "index.html").read_bytes()
