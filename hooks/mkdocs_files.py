"""The core's view of MkDocs' files and settings: what the site hook and the `notes` command share.

The `notes` commands (hooks/cli/*) list a project's files exactly as a build does (MkDocs'
``get_files``, so ``exclude_docs``, ``draft_docs`` and ``not_in_nav`` mean what MkDocs says) without
importing the hook file, which MkDocs loads by path and which keeps a serve session.
"""
from __future__ import annotations

import os

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, InclusionLevel, get_files

from hooks import site
from hooks.config import ConfigError
from hooks.kb.sources import SourceFile

DEMO_HOOK = "mkdocs_demos.py"
_STATUS = {
    InclusionLevel.EXCLUDED: "excluded",
    InclusionLevel.DRAFT: "draft",
    InclusionLevel.NOT_IN_NAV: "not_in_nav",
}


def source_files(files: Files | list[File], project: site.Project) -> list[SourceFile]:
    """MkDocs' files of docs/ as the core lists them (named in messages as they lie in the project).
    The vault's own files (``.obsidian/``, ``.trash/``, the templates) are excluded, as ``exclude_docs``
    would exclude them (the site hook removes them from MkDocs' files too)."""
    docs = project.display(project.docs_dir)
    out = []
    for f in files:
        if f.abs_src_path is None or f.generated_by:
            continue
        status = "excluded" if project.vault.is_private(f.src_uri) else _STATUS.get(f.inclusion, "included")
        out.append(SourceFile(f.src_uri, f.abs_src_path, f"{docs}/{f.src_uri}", status))
    return out


def uses_demos(config: MkDocsConfig) -> bool:
    """Whether the demo hook is listed under ``hooks:`` (then the plan includes the demo runs)."""
    return any(str(name).endswith(DEMO_HOOK) for name in (config.hooks or {}))


def load_project(config_file: str | os.PathLike[str], *, jobs: int | None = None, device: str | None = None) -> tuple[site.Project, list[SourceFile]]:
    """The project and its files as a build of ``config_file`` sees them, for the `notes` command.

    Plugins and hooks are not loaded (nothing of theirs is needed to list the files).
    """
    from mkdocs.config import load_config
    from mkdocs.exceptions import ConfigurationError

    config_file = str(config_file)
    try:
        full = load_config(config_file, plugins=[], hooks=[])
    except ConfigurationError as exc:
        raise ConfigError(f"cannot be loaded: {exc}", os.path.basename(config_file)) from None
    raw = site.read_raw_config(config_file)
    with_demos = any(str(h).endswith(DEMO_HOOK) for h in raw.get("hooks") or [])
    project = site.project_from_config(full, with_demos=with_demos, jobs=jobs, device=device)
    return project, source_files(get_files(full), project)
