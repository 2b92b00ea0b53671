"""The demo runner's core on fake demos: specs, directives, keys, isolation, failures, cache safety."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hooks.figures.cache import CacheError, DemoCache
from hooks.figures.directive import SpecCache, collect_refs, parse_target
from hooks.figures.plan import Settings, cache_key, key_material, plan_jobs
from hooks.figures.runner import failure_summary, run_jobs
from hooks.figures.spec import DemoError, load_spec, params_id, resolve_params
from hooks.kb.sources import parse_source
from tests.conftest import plan_of

FIXTURE = Path(__file__).parent / "fixtures" / "demo_project"
REPO = Path(__file__).resolve().parents[1]
MKDOCS_YML = f"site_name: T\nhooks: [{REPO}/hooks/mkdocs_site.py, {REPO}/hooks/mkdocs_demos.py]\nextra:\n  demos:\n    cache_dir: .cache\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(FIXTURE, root)
    return root


def page(text: str, uri: str = "a.md", display: str | None = None) -> tuple[str, str, str, int]:
    """One page as collect_refs takes it: (src_uri, display path, body, line of the body's first line)."""
    src = parse_source(uri, text.encode(), display or uri)
    return src.src_uri, src.display_path, src.body, src.body_line


def settings(root: Path, **kw) -> Settings:
    return Settings(project_root=root, demos_dir=root / "demos", cache_dir=root / ".cache", **kw)


def jobs_for(root: Path, names: list[str], **kw):
    s = settings(root, **kw)
    jobs, problems = plan_jobs(s, [], SpecCache(s.demos_dir), only=names)
    assert not problems
    return s, jobs


# -- specs and directives ------------------------------------------------------------------------


def test_spec_is_read_from_source_without_import(project: Path) -> None:
    spec = load_spec(project / "demos", "ok")
    assert list(spec.fields) == ["seed", "scale", "label", "steps", "loud"]
    assert spec.fields["scale"].type == "float" and spec.fields["scale"].default == 1.0
    assert spec.fields["steps"].comment == "an integer parameter"
    assert spec.figures == {"main": "a square"}
    assert [p.name for p in spec.local_modules] == ["ok.py", "_helper.py"]
    assert load_spec(project / "demos", "hangs").timeout_s == 2
    assert [p.name for p in load_spec(project / "demos", "standalone").local_modules] == ["standalone.py"]
    assert "demos.ok" not in sys.modules


def test_a_new_session_takes_specs_from_the_archive_until_the_demo_or_a_module_it_imports_changes(project: Path, monkeypatch) -> None:
    import hooks.figures.directive
    from hooks.kb.archive import FILE, Archive

    parsed = []
    real = hooks.figures.directive.load_spec
    monkeypatch.setattr(hooks.figures.directive, "load_spec", lambda d, name: parsed.append(name) or real(d, name))

    def session_spec(name: str):
        archive = Archive(project / FILE)
        spec = SpecCache(project / "demos", archive).get(name)
        archive.save()
        return spec

    first = session_spec("ok")
    assert parsed == ["ok"]
    assert session_spec("ok") == first and parsed == ["ok"]  # a new session: nothing parsed
    helper = project / "demos" / "_helper.py"
    helper.write_text(helper.read_text().replace("VERSION = 1", "VERSION = 2"))
    assert session_spec("ok") == first and parsed == ["ok", "ok"]  # a module it imports changed: parsed again
    demo = project / "demos" / "ok.py"
    demo.write_text(demo.read_text().replace("a square", "a blue square"))
    assert session_spec("ok").figures == {"main": "a blue square"} and parsed == ["ok", "ok", "ok"]


@pytest.mark.parametrize(
    "target, message",
    [
        ("nope/main", "unknown demo 'nope' (known: fails, hangs, ok, silent, standalone)"),
        ("ok/missing", "demo 'ok' has no figure 'missing' (known: main)"),
        ("ok/main?lr=0.1", "demo 'ok' has no parameter 'lr' (known: seed, scale, label, steps, loud)"),
        ("ok/main?steps=many", "parameter 'steps' of demo 'ok' must be int, not 'many'"),
        ("ok/main?scale=nan", "parameter 'scale' of demo 'ok' must be float, not 'nan'"),
        ("ok/main?loud=maybe", "parameter 'loud' of demo 'ok' must be bool, not 'maybe'"),
        ("../../etc/main", "is not DEMO/FIGURE"),
        ("..%2Fsecret/main", "is not a demo name"),
        ("_helper/main", "'_helper' is not a demo name"),
        ("ok", "'ok' is not DEMO/FIGURE"),
    ],
)
def test_bad_directives_are_one_line_errors_with_file_and_line(project: Path, target: str, message: str) -> None:
    text = f"---\ntitle: T\n---\n\n# T\n\nSome text.\n\n!demo[Caption]({target})\n"
    refs, problems = collect_refs([page(text, "notes/2024-01-01-x.md", "docs/notes/2024-01-01-x.md")], SpecCache(project / "demos"))
    assert refs == []
    assert len(problems) == 1
    assert str(problems[0]).startswith("docs/notes/2024-01-01-x.md:9: ")
    assert message in str(problems[0])
    assert "\n" not in str(problems[0])


def test_directives_in_code_blocks_are_left_alone(project: Path) -> None:
    text = "# T\n\n```markdown\n!demo[Not me](nope/main)\n```\n\n!demo[Me](ok/main?scale=2)\n"
    refs, problems = collect_refs([page(text)], SpecCache(project / "demos"))
    assert problems == []
    assert [(r.line, r.demo, r.overrides, r.params_id) for r in refs] == [(7, "ok", {"scale": 2.0}, "scale-2.0")]


def test_params_are_typed_and_defaults_are_not_overrides(project: Path) -> None:
    spec = load_spec(project / "demos", "ok")
    params, changed = resolve_params(spec, {"scale": "1", "steps": "5", "loud": "true", "label": "a b"})
    assert params == {"seed": 0, "scale": 1.0, "label": "a b", "steps": 5, "loud": True}
    assert changed == {"label": "a b", "loud": True, "steps": 5}
    # "a b" is cleaned to "a-b" in the folder name, so a hash of the exact values tells it from label=a-b
    assert params_id(changed).startswith("label-a-b_loud-True_steps-5-")
    assert params_id(dict(changed, label="a-b")) == "label-a-b_loud-True_steps-5"
    assert parse_target("ok/main?steps=5&loud=1") == ("ok", "main", {"steps": "5", "loud": "1"})


# -- cache keys ----------------------------------------------------------------------------------


def _key(root: Path, name: str, device: str = "cpu", versions=None, **params) -> str:
    spec = load_spec(root / "demos", name)
    full, _ = resolve_params(spec, params)
    return cache_key(key_material(spec, full, device, versions or {"torch": "2.13.0", "numpy": "2", "matplotlib": "3"}, root))


def test_key_covers_source_helpers_params_versions_and_device(project: Path) -> None:
    base_ok, base_alone = _key(project, "ok"), _key(project, "standalone")
    assert _key(project, "ok") == base_ok  # stable
    assert _key(project, "ok", scale="2") != base_ok
    assert _key(project, "ok", device="cuda") != base_ok
    assert _key(project, "ok", versions={"torch": "2.14.0", "numpy": "2", "matplotlib": "3"}) != base_ok
    helper = project / "demos" / "_helper.py"
    helper.write_text(helper.read_text().replace("VERSION = 1", "VERSION = 2"))
    assert _key(project, "ok") != base_ok  # a shared helper changed: its users rerun
    assert _key(project, "standalone") == base_alone  # ... and nothing else does
    (project / "docs" / "index.md").write_text("# Edited note\n")
    assert _key(project, "standalone") == base_alone


def test_keys_ids_and_checksums_keep_the_values_already_published(tmp_path: Path) -> None:
    """Cache keys are shared through remote caches and figure ids are link targets: pinned, so a change of
    hashing scheme (hooks.hashing) is seen here first."""
    from hooks.figures.pages import figure_id
    from hooks.hashing import digest_of, sha256_file

    demos = tmp_path / "demos"
    demos.mkdir()
    (demos / "pinned.py").write_text('from dataclasses import dataclass\n\n\n@dataclass\nclass Config:\n'
                                     '    seed: int = 0  # seed\n\n\nFIGURES = {"main": "m"}\n')
    spec = load_spec(demos, "pinned")
    versions = {"torch": "2.1.0+cpu", "numpy": "1.26", "matplotlib": "3.8"}
    assert cache_key(key_material(spec, spec.defaults(), "cpu", versions, tmp_path)) == "f13effbf789465b4713c"
    assert params_id({"label": "a" * 70, "steps": 5}) == "label-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-f3a2d5d1e2c8"
    assert figure_id("!demo[ok:main](scale=2)") == "kb-fig-5f618631"
    assert sha256_file(demos / "pinned.py") == digest_of((demos / "pinned.py").read_bytes())
    assert digest_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# -- running -------------------------------------------------------------------------------------


def test_run_then_reuse_with_manifest_and_checksums(project: Path) -> None:
    s, jobs = jobs_for(project, ["ok"])
    cache = DemoCache(s.cache_dir)
    [first] = run_jobs(jobs, s, cache)
    assert first.status == "ran", first.error
    m = first.entry.manifest
    assert set(m["files"]) == {"main-light.svg", "main-dark.svg", "data.json", "log.txt", "source.py"}
    assert m["params_id"] == "default" and m["seed"] == 0 and m["device"] == "cpu"
    assert m["source"] == "demos/ok.py"
    assert json.loads(first.entry.file("data.json").read_text())["answer"] == 42.0
    [second] = run_jobs(jobs, s, cache)
    assert second.status == "cached" and second.entry.path == first.entry.path
    assert list((s.cache_dir / "tmp").iterdir()) == []


def test_a_demo_that_raises_is_named_with_its_error_and_keeps_the_last_good_entry(project: Path) -> None:
    demo = project / "demos" / "fails.py"
    demo.write_text(demo.read_text().replace("fail: bool = True", "fail: bool = False"))
    s, jobs = jobs_for(project, ["fails"])
    cache = DemoCache(s.cache_dir)
    [good] = run_jobs(jobs, s, cache)
    assert good.status == "ran"
    demo.write_text(demo.read_text().replace("fail: bool = False", "fail: bool = True"))
    s, jobs = jobs_for(project, ["fails"])
    [bad] = run_jobs(jobs, s, cache)
    assert bad.status == "failed"
    assert bad.error == "ValueError: the loss diverged at step 7"
    assert 'File "demos/fails.py"' in bad.detail and str(project) not in bad.detail
    assert bad.entry is None and bad.stale is not None and bad.stale.path == good.entry.path
    assert not cache.entry_dir("fails", bad.job.key).exists()  # nothing recorded for the failed key
    [line] = failure_summary([bad])
    assert line.startswith("demo 'fails' failed") and "the loss diverged" in line and "last good figure" in line


def test_timeout_kills_the_process(project: Path) -> None:
    s, jobs = jobs_for(project, ["hangs"])
    [r] = run_jobs(jobs, s, DemoCache(s.cache_dir))
    assert r.status == "failed" and r.stale is None
    assert r.error.startswith("timed out after 2 s")


def test_missing_figures_are_a_failure(project: Path) -> None:
    s, jobs = jobs_for(project, ["silent"])
    [r] = run_jobs(jobs, s, DemoCache(s.cache_dir))
    assert r.status == "failed"
    assert "main-light.svg, main-dark.svg, other-light.svg, other-dark.svg" in r.error


def test_a_damaged_entry_is_detected_and_rerun(project: Path) -> None:
    s, jobs = jobs_for(project, ["ok"])
    cache = DemoCache(s.cache_dir)
    [r] = run_jobs(jobs, s, cache)
    r.entry.file("main-dark.svg").write_text("<svg>tampered</svg>")
    assert cache.lookup("ok", r.job.key) is None
    [again] = run_jobs(jobs, s, cache)
    assert again.status == "ran"
    assert "tampered" not in again.entry.file("main-dark.svg").read_text()


def test_runs_are_parallel_processes(project: Path) -> None:
    demo = project / "demos" / "standalone.py"
    demo.write_text(demo.read_text().replace(
        "    time.sleep(cfg.sleep)\n",
        "    t0 = time.time()\n    time.sleep(cfg.sleep)\n    span = [t0, time.time(), __import__('os').getpid()]\n",
    ).replace('json.dumps({"slept": cfg.sleep})', 'json.dumps({"slept": cfg.sleep, "span": span})'))
    s = settings(project, jobs=2)
    refs, _ = collect_refs([page("!demo[a](standalone/main?sleep=1.5)\n\n!demo[b](standalone/main?sleep=1.6)\n")], SpecCache(s.demos_dir))
    jobs, _ = plan_jobs(s, refs, SpecCache(s.demos_dir), include_defaults=False)
    results = run_jobs(jobs, s, DemoCache(s.cache_dir))
    assert [r.status for r in results] == ["ran", "ran"]
    (a0, a1, pid_a), (b0, b1, pid_b) = (json.loads(r.entry.file("data.json").read_text())["span"] for r in results)
    assert pid_a != pid_b != os.getpid()
    assert a0 < b1 and b0 < a1, "the two runs did not overlap in time"


def test_an_unwritable_cache_is_a_clear_error(project: Path) -> None:
    blocker = project / "not-a-folder"
    blocker.write_text("")
    s, jobs = jobs_for(project, ["ok"])
    with pytest.raises(CacheError, match=r"demo cache folder .*not-a-folder/sub cannot be written .*cache_dir"):
        run_jobs(jobs, s, DemoCache(blocker / "sub"))


# -- concurrency and crashes ---------------------------------------------------------------------

RUN_SCRIPT = textwrap.dedent(
    """
    import sys, json
    from pathlib import Path
    from hooks.figures.directive import SpecCache, collect_refs
    from hooks.figures.plan import Settings, plan_jobs
    from hooks.figures.runner import run_jobs
    from hooks.figures.cache import DemoCache
    root = Path(sys.argv[1]); target = sys.argv[2]
    s = Settings(project_root=root, demos_dir=root / "demos", cache_dir=root / ".cache")
    refs, _ = collect_refs([("a.md", "a.md", f"!demo[x]({target})\\n", 1)], SpecCache(s.demos_dir))
    jobs, _ = plan_jobs(s, refs, SpecCache(s.demos_dir), include_defaults=False)
    print(json.dumps([[r.status, r.error, sorted(r.entry.manifest["files"]) if r.entry else None] for r in run_jobs(jobs, s, DemoCache(s.cache_dir))]))
    print("torch imported:", "torch" in sys.modules)
    """
)


def demo_processes(project: Path) -> list[int]:
    """PIDs of demo processes (and anything they started) still running for this project."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if str(project) in (proc.environ().get("PYTHONPATH") or "") and proc.pid != os.getpid():
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def _spawn(root: Path, target: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RUN_SCRIPT, str(root), target], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_builds_at_once_both_succeed_and_leave_one_entry(project: Path) -> None:
    procs = [_spawn(project, "standalone/main?sleep=1.0") for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 and o for p, (o, _) in zip(procs, outs)), outs
    statuses = sorted(json.loads(o.splitlines()[0])[0][0] for o, _ in outs)
    assert statuses == ["cached", "ran"]  # the second waited on the lock, then reused
    entries = list((project / ".cache" / "entries" / "standalone").iterdir())
    assert len(entries) == 1
    assert DemoCache(project / ".cache").lookup("standalone", entries[0].name) is not None


def test_kill_9_mid_run_leaves_no_entry_and_the_next_build_reruns(project: Path) -> None:
    (project / "HOLD").write_text("")
    proc = _spawn(project, "standalone/main")
    tmp = project / ".cache" / "tmp"
    deadline = time.time() + 30
    while time.time() < deadline and not (tmp.is_dir() and any(tmp.iterdir())):
        time.sleep(0.1)
    time.sleep(0.5)  # the child is sleeping inside the demo now
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    entries = project / ".cache" / "entries" / "standalone"
    assert not entries.exists() or list(entries.iterdir()) == []
    leftovers = list(tmp.iterdir())
    assert leftovers, "the killed run should have left its unfinished folder in tmp/"
    # The child died with its parent (PR_SET_PDEATHSIG): nothing is left running the demo.
    time.sleep(0.5)
    assert demo_processes(project) == []
    (project / "HOLD").unlink()
    p = _spawn(project, "standalone/main")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert json.loads(out.splitlines()[0])[0][0] == "ran"
    assert not any(tmp.iterdir()), "the next build removes the killed run's leftovers"


def test_the_cached_path_never_imports_torch(project: Path) -> None:
    first = _spawn(project, "ok/main?scale=3")
    assert first.communicate(timeout=60)[0].splitlines()[-1] == "torch imported: False"
    out, _ = _spawn(project, "ok/main?scale=3").communicate(timeout=60)
    assert json.loads(out.splitlines()[0])[0][0] == "cached"
    assert out.splitlines()[-1] == "torch imported: False"


def test_the_site_plan_feeds_the_directive_scan(project: Path) -> None:
    (project / "mkdocs.yml").write_text(MKDOCS_YML)
    plan = plan_of(project)
    refs, problems = plan.refs, plan.problems
    assert problems == []
    assert [(r.display_path, r.line, r.params_id) for r in refs] == [
        ("docs/index.md", 7, "default"),
        ("docs/index.md", 9, "label-big_scale-2.0"),
    ]


# -- why a run ran again ---------------------------------------------------------------------------


def test_a_changed_helper_module_is_named_as_why_the_demo_ran_again(project: Path) -> None:
    """A run replacing an earlier run of the same parameters records what changed in its key's material
    (here a helper module the demo imports); its provenance line and the Demo runs page say it."""
    from hooks.figures.pages import PageLink, provenance, render_runs_page

    s, jobs = jobs_for(project, ["ok"])
    cache = DemoCache(s.cache_dir)
    [first] = run_jobs(jobs, s, cache)
    assert first.status == "ran" and "reran_because" not in first.entry.manifest  # nothing replaced
    helper = project / "demos" / "_helper.py"
    helper.write_text(helper.read_text().replace("VERSION = 1", "VERSION = 2"))
    s, jobs = jobs_for(project, ["ok"])
    [second] = run_jobs(jobs, s, cache)
    assert second.status == "ran" and second.entry.key != first.entry.key
    assert second.entry.manifest["reran_because"] == ["demos/_helper.py changed"]
    assert "ran again as demos/_helper.py changed" in provenance(second, lambda path: path)
    assert "ran because demos/_helper.py changed" in render_runs_page([second], {}, lambda path: path)
    s, jobs = jobs_for(project, ["ok"])
    [third] = run_jobs(jobs, s, cache)
    assert third.status == "cached" and third.entry.key == second.entry.key


def test_why_rerun_names_sources_parameters_device_and_versions() -> None:
    from hooks.figures.plan import why_rerun

    before = {"sources": {"demos/a.py": "1", "demos/_old.py": "2"}, "params": {"lr": 0.1, "steps": 5}, "device": "cpu",
              "versions": {"torch": "2.12.0", "numpy": "2"}}
    now = {"sources": {"demos/a.py": "9", "demos/_new.py": "3"}, "params": {"lr": 0.2, "steps": 5}, "device": "cuda",
           "versions": {"torch": "2.13.0", "numpy": "2"}}
    assert why_rerun(before, now) == ["demos/_new.py is imported now", "demos/_old.py is no longer imported", "demos/a.py changed",
                                      "parameter lr: 0.1 → 0.2", "device cpu → cuda", "torch 2.12.0 → 2.13.0"]
    assert why_rerun(now, now) == []
    assert why_rerun(None, now) == []  # the run replaced did not record its key's material: nothing to say
