"""Bad settings of extra.demos (and DEMOS_* variables): one line naming mkdocs.yml and the line, from
`notes check`, `notes demos` and the build alike; a cache folder that could delete what is not the cache's is refused."""
from __future__ import annotations

from pathlib import Path

import pytest

from hooks.figures.plan import cuda_available
from tests.hostile.conftest import Project, assert_agree, assert_one_line, build, cli, notes

# (extra.demos, the key whose line is named, what the message says)
BAD_SETTINGS = {
    "timeout-text": ({"timeout": "abc"}, "timeout:", "extra.demos.timeout must be a number at least 1 and at most 86400, not 'abc'"),
    "timeout-negative": ({"timeout": -1}, "timeout:", "extra.demos.timeout must be a number at least 1"),
    "timeout-none": ({"timeout": None}, "timeout:", "extra.demos.timeout must be a number"),
    "jobs-text": ({"jobs": "abc"}, "jobs:", "extra.demos.jobs must be a whole number at least 0 and at most 256, not 'abc'"),
    "jobs-fraction": ({"jobs": 1.5}, "jobs:", "extra.demos.jobs must be a whole number"),
    "demos-number": (5, "demos:", "extra.demos must be a mapping of options, not 5"),
    "demos-list": (["timeout", 3], "demos:", "extra.demos must be a mapping of options"),
    "device-tpu": ({"device": "tpu"}, "device:", "extra.demos.device must be one of auto, cpu, cuda, not 'tpu'"),
    "memory-text": ({"memory": "lots"}, "memory:", "extra.demos.memory must be a number"),
    "memory-tiny": ({"memory": 0}, "memory:", "extra.demos.memory must be a number at least 0.25"),
    "cache-root": ({"cache_dir": "/"}, "cache_dir:", "extra.demos.cache_dir (/) holds the project itself"),
    "cache-up-two": ({"cache_dir": "../../"}, "cache_dir:", "extra.demos.cache_dir ("),
    "cache-in-docs": ({"cache_dir": "docs/cache"}, "cache_dir:", "extra.demos.cache_dir ("),
    "cache-outside": ({"cache_dir": "../elsewhere"}, "cache_dir:", "extra.demos.cache_dir ("),
    "cache-not-text": ({"cache_dir": ["a"]}, "cache_dir:", "extra.demos.cache_dir must be text"),
    "cache-outside-flag": ({"cache_outside_project": "yes"}, "cache_outside_project:", "extra.demos.cache_outside_project must be true or false"),
}
WHY = {
    "cache-up-two": "holds the project itself",
    "cache-in-docs": "lies inside the docs folder",
    "cache-outside": "lies outside the project; set extra.demos.cache_outside_project: true",
}


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_a_bad_setting_is_one_line_naming_mkdocs_yml_and_its_line(case: str, project: Project) -> None:
    demos, key, message = BAD_SETTINGS[case]
    project.settings(demos=demos)
    where = f"mkdocs.yml:{project.line_of('mkdocs.yml', key)}: "
    check = notes(project.root, "check")
    assert check.rc == 2
    line = assert_one_line(check, where + message)
    assert WHY.get(case, "") in line
    built = build(project)
    assert built.rc == 1
    assert assert_one_line(built, where + message) == line
    assert_agree(check, built)
    ran = notes(project.root, "demos")
    assert ran.rc == 2 and assert_one_line(ran, where + message) == line
    assert not (project.root / "site").exists()


def test_the_build_on_the_command_line_prints_the_line_and_no_traceback(project: Project) -> None:
    project.settings(demos={"timeout": "abc"})
    proc = cli(project.root, "mkdocs", "build", "--strict")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"mkdocs.yml:{project.line_of('mkdocs.yml', 'timeout:')}: extra.demos.timeout must be a number" in proc.stderr
    check = cli(project.root, "notes", "check")
    assert check.returncode == 2 and "Traceback" not in check.stderr
    assert check.stderr.splitlines()[-1].startswith("notes check: mkdocs.yml:")


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("DEMOS_CACHE_DIR", "/", "DEMOS_CACHE_DIR (/) holds the project itself"),
        ("DEMOS_CACHE_DIR", "../..", "DEMOS_CACHE_DIR ("),
        ("DEMOS_DEVICE", "tpu", "DEMOS_DEVICE must be one of auto, cpu, cuda, not 'tpu'"),
    ],
)
def test_a_bad_variable_is_one_line_naming_it(variable: str, value: str, message: str, project: Project,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(variable, value)
    check, built = notes(project.root, "check"), build(project)
    assert check.rc == 2 and built.rc == 1
    assert assert_one_line(check, message) == assert_one_line(built, message)


def test_a_cache_outside_the_project_is_refused_without_the_opt_in_and_needs_a_folder_of_its_own(project: Project) -> None:
    """The folder beside the project holds `tmp/old-run` (a week old): as a cache root it must be refused, not swept."""
    shared = project.sentinel.parent.parent  # ws/, which holds tmp/old-run
    project.settings(demos={"cache_dir": str(shared / "cache")})  # outside, no opt-in
    assert "lies outside the project" in assert_one_line(notes(project.root, "check"), "mkdocs.yml:")
    project.settings(demos={"cache_dir": "../tmp", "cache_outside_project": True})  # a folder of other files
    check, built = notes(project.root, "check"), build(project)
    line = assert_one_line(built, "")
    assert "holds files the cache did not make (old-run) and no .demos-cache marker" in line
    assert check.rc != 0 and line in check.problems(), "notes check must refuse the cache folder the build refuses"
    assert (project.sentinel / "keep.txt").is_file()
    project.settings(demos={"cache_dir": "../shared-cache", "cache_outside_project": True})  # opted in, a new folder
    assert build(project).rc == 0
    assert (shared / "shared-cache" / ".demos-cache").is_file()


def test_the_cache_deletes_only_what_it_made(project: Project) -> None:
    """An old folder in the cache's own tmp/ whose name the cache does not use survives a run."""
    assert build(project).rc == 0
    cache = project.root / ".demos-cache"
    foreign = cache / "tmp" / "old-run"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    Path(cache / "entries" / "notes.txt").write_text("mine")
    project.page("extra.md", "# Extra\n\n!demo[Scaled](ok/main?scale=5)\n")
    assert build(project).rc == 0
    assert (foreign / "keep.txt").is_file() and (cache / "entries" / "notes.txt").is_file()


@pytest.mark.skipif(cuda_available(), reason="this machine can run CUDA")
def test_device_cuda_on_a_machine_without_cuda_is_one_line(project: Project) -> None:
    project.settings(demos={"device": "cuda"})
    where = f"mkdocs.yml:{project.line_of('mkdocs.yml', 'device:')}: "
    check, built = notes(project.root, "check"), build(project)
    assert check.rc == 2 and built.rc == 1
    line = assert_one_line(built, where + "extra.demos.device")
    assert "cannot run CUDA" in line and line in check.problems()
    ran = notes(project.root, "demos", "--device", "cuda")
    assert ran.rc == 2 and "cannot run CUDA" in ran.text and "Traceback" not in ran.text


@pytest.mark.parametrize(
    "notes_settings, key, message",
    [
        ({"feed_items": "abc"}, "feed_items:", "extra.notes.feed_items must be a whole number at least 0"),
        ({"map_notes": -3}, "map_notes:", "extra.notes.map_notes must be a whole number at least 0"),
        ("lots", "notes:", "extra.notes must be a mapping of settings"),
    ],
)
def test_a_bad_notes_setting_is_one_line_too(project: Project, notes_settings, key: str, message: str) -> None:
    project.settings(notes=notes_settings)
    where = f"mkdocs.yml:{project.line_of('mkdocs.yml', key)}: "
    check, built = notes(project.root, "check"), build(project)
    assert check.rc == 2 and built.rc == 1
    assert assert_one_line(check, where + message) == assert_one_line(built, where + message)
