"""The static-site generator the tests drive: MkDocs 1.6, or ProperDocs, its maintained drop-in fork.

Every test that needs the generator's internals or its command line takes them from here, so the
whole suite runs against either: ``NOTES_GENERATOR=properdocs make test``. ProperDocs redirects
``mkdocs.*`` imports (the hooks' included) to its own modules once ``properdocs.replacement`` is
imported, which is what its own command line does.
"""
from __future__ import annotations

import os

NAME = os.environ.get("NOTES_GENERATOR", "mkdocs")
if NAME == "properdocs":
    import properdocs.replacement  # noqa: F401
elif NAME != "mkdocs":
    raise RuntimeError(f"NOTES_GENERATOR must be mkdocs or properdocs, not {NAME!r}")

from mkdocs.commands.build import build  # noqa: E402
from mkdocs.config import load_config  # noqa: E402
from mkdocs.exceptions import Abort, PluginError  # noqa: E402

COMMAND = ["-m", NAME]  # `python -m mkdocs` or `python -m properdocs`

__all__ = ["Abort", "COMMAND", "NAME", "PluginError", "build", "load_config"]
