"""The shared demo cache against real servers: an S3-compatible server (moto's standalone server) and a
file:// folder started here on 127.0.0.1, and a Dask scheduler with two workers for the executor."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests import services
from tests.test_demo_hooks import FIXTURE, REPO, do_build, soup

pytest.importorskip("fsspec")

BUCKET = "demo-cache"


@pytest.fixture(scope="session")
def s3_server():
    """moto's standalone S3 server on 127.0.0.1, with credentials in the environment as a user sets them."""
    pytest.importorskip("s3fs")
    pytest.importorskip("moto")
    with services.s3_server(BUCKET) as endpoint:
        yield endpoint


def project(root: Path, remote: str, **demos) -> Path:
    """A copy of the fake demo project whose mkdocs.yml names ``remote``."""
    shutil.copytree(FIXTURE, root)
    settings = {"cache_dir": ".demos-cache", "timeout": 60, "jobs": 2, "remote": remote, **demos}
    lines = "\n".join(f"    {k}: {json.dumps(v)}" for k, v in settings.items())
    (root / "mkdocs.yml").write_text(textwrap.dedent(f"""\
        site_name: Tiny
        site_url: https://example.invalid/tiny/
        theme: {{name: material, font: false}}
        hooks: [{REPO / "hooks" / "mkdocs_site.py"}, {REPO / "hooks" / "mkdocs_demos.py"}]
        markdown_extensions: [attr_list, md_in_html]
        extra:
          demos:
        """) + lines + "\n")
    return root


def notes(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hooks.cli.main", *args], cwd=root, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def figures(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root / "site").as_posix(): p.read_bytes() for p in (root / "site" / "demos").rglob("*.svg")}


def test_a_second_copy_builds_from_s3_with_no_run_and_the_same_figures(tmp_path, s3_server, caplog) -> None:
    remote = f"s3://{BUCKET}/{tmp_path.name}"
    first = project(tmp_path / "laptop", remote)
    run = notes(first, "demos", "ok", "standalone")
    assert run.returncode == 0, run.stderr
    assert "3 ran" in run.stdout
    do_build(first)
    second = project(tmp_path / "ci", remote)
    pulled = notes(second, "demos", "ok", "standalone")
    assert "0 ran, 0 cached, 0 failed, 3 pulled" in pulled.stdout, pulled.stdout + pulled.stderr
    caplog.set_level("INFO")
    do_build(second)  # every run is local now: nothing to pull or run
    assert figures(second) == figures(first) and figures(first)
    assert soup(second).select_one("figure.kb-demo .kb-provenance") is not None


def test_a_build_with_an_empty_cache_pulls_from_a_shared_folder_instead_of_running(tmp_path, caplog) -> None:
    remote = (tmp_path / "shared").as_uri()
    first = project(tmp_path / "a", remote)
    do_build(first)  # the build runs what is missing and pushes it
    caplog.clear()
    caplog.set_level("INFO")
    second = project(tmp_path / "b", remote)
    do_build(second)
    assert "0 ran" in caplog.text and "pulled from the remote cache" in caplog.text
    assert figures(second) == figures(first)


def _entry_objects(shared: Path, demo: str) -> tuple[Path, dict]:
    [manifest] = list((shared / "entries" / demo).glob("*.json"))
    return manifest, json.loads(manifest.read_text())


def test_a_corrupt_remote_object_is_reported_ignored_and_replaced_by_the_next_run(tmp_path) -> None:
    shared = tmp_path / "shared"
    first = project(tmp_path / "a", shared.as_uri())
    assert notes(first, "demos", "standalone").returncode == 0
    manifest, data = _entry_objects(shared, "standalone")
    digest = data["files"]["main-light.svg"]
    obj = shared / "objects" / digest[:2] / digest
    obj.write_bytes(b"<svg>tampered</svg>")
    second = project(tmp_path / "b", shared.as_uri())
    out = notes(second, "demos", "standalone")
    assert out.returncode == 0, out.stderr
    assert "ran     standalone [default]" in out.stdout
    [line] = [l for l in out.stderr.splitlines() if "does not match its checksum" in l]
    # both themes of this fake figure have the same bytes, so one object serves both file names
    assert line.startswith(f"remote cache {shared.as_uri()}: main-") and " of standalone [" in line and line.endswith("ignored, running it here")
    assert hashlib.sha256(obj.read_bytes()).hexdigest() == digest  # the new run's push replaced the bad object
    third = project(tmp_path / "c", shared.as_uri())
    assert "1 pulled" in notes(third, "demos", "standalone").stdout


def test_a_damaged_manifest_is_one_line_and_a_rerun(tmp_path) -> None:
    shared = tmp_path / "shared"
    assert notes(project(tmp_path / "a", shared.as_uri()), "demos", "standalone").returncode == 0
    manifest, _ = _entry_objects(shared, "standalone")
    manifest.write_text("{not json")
    out = notes(project(tmp_path / "b", shared.as_uri()), "demos", "standalone")
    assert "ran     standalone" in out.stdout
    assert sum("manifest of standalone" in l and "is damaged" in l for l in out.stderr.splitlines()) == 1


PUSH_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from hooks.figures.cache import DemoCache
    from hooks.figures.remote import RemoteCache
    cache_dir, url, key, pause = Path(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
    remote = RemoteCache(url)
    real_write = remote._write
    def slow_write(path, data):
        real_write(path, data)
        print("wrote", path, flush=True)
        time.sleep(pause)
    remote._write = slow_write
    remote.push(DemoCache(cache_dir).lookup("standalone", key))
    print("done", flush=True)
""")


def _push(cache: Path, url: str, key: str, pause: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", PUSH_SCRIPT, str(cache), url, key, str(pause)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)


def _key_of(root: Path) -> str:
    [entry] = list((root / ".demos-cache" / "entries" / "standalone").iterdir())
    return entry.name


def test_a_push_killed_midway_leaves_no_entry(tmp_path) -> None:
    local = project(tmp_path / "a", (tmp_path / "unused").as_uri())
    assert notes(local, "demos", "standalone").returncode == 0
    shared = tmp_path / "shared"
    proc = _push(local / ".demos-cache", shared.as_uri(), _key_of(local), pause=30)
    assert proc.stdout.readline().startswith("wrote")  # one object is up, the rest and the manifest are not
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (shared / "entries").exists() or not any((shared / "entries").rglob("*.json"))
    other = project(tmp_path / "b", shared.as_uri())
    out = notes(other, "demos", "standalone")
    assert "ran     standalone" in out.stdout and out.stderr.count("remote cache") == 0


def test_two_pushes_of_one_key_at_once_leave_one_complete_entry(tmp_path) -> None:
    a = project(tmp_path / "a", (tmp_path / "unused").as_uri())
    b = project(tmp_path / "b", (tmp_path / "unused").as_uri())
    for root in (a, b):
        assert notes(root, "demos", "standalone").returncode == 0
    key = _key_of(a)
    assert _key_of(b) == key
    # The two runs made different bytes for one file (as a timing figure would): both pushes interleave.
    (b / ".demos-cache/entries/standalone" / key / "log.txt").write_text("another machine's log\n")
    manifest = b / ".demos-cache/entries/standalone" / key / "manifest.json"
    m = json.loads(manifest.read_text())
    m["files"]["log.txt"] = hashlib.sha256(b"another machine's log\n").hexdigest()
    manifest.write_text(json.dumps(m))
    shared = tmp_path / "shared"
    procs = [_push(root / ".demos-cache", shared.as_uri(), key, pause=0.2) for root in (a, b)]
    for p in procs:
        p.communicate(timeout=60)
        assert p.returncode == 0
    pulled = notes(project(tmp_path / "c", shared.as_uri()), "demos", "standalone")
    assert "1 pulled" in pulled.stdout and "remote cache" not in pulled.stderr, pulled.stderr


def test_readonly_remote_pulls_but_never_pushes_and_push_pull_sync(tmp_path) -> None:
    shared = tmp_path / "shared"
    local = project(tmp_path / "a", shared.as_uri())
    out = notes(local, "demos", "ok", env={"DEMOS_REMOTE_READONLY": "1"})
    assert "2 ran" in out.stdout and not shared.exists()
    pushed = notes(local, "demos", "ok", "--push")
    assert pushed.returncode == 0 and "2 entries" in pushed.stdout
    again = notes(local, "demos", "ok", "--push")
    assert "0 entries" in again.stdout  # already there
    other = project(tmp_path / "b", shared.as_uri())
    fetched = notes(other, "demos", "ok", "--pull")
    assert fetched.returncode == 0 and "2 entries" in fetched.stdout
    assert "2 cached" in notes(other, "demos", "ok").stdout


def test_no_remote_imports_nothing(tmp_path) -> None:
    root = project(tmp_path / "a", "")
    code = "import sys; from hooks.cli.main import main; main(['demos', 'standalone']); print('fsspec' in sys.modules, 'distributed' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False False", out.stdout + out.stderr


def test_an_executor_without_a_remote_is_a_clear_error(tmp_path) -> None:
    root = project(tmp_path / "a", "", executor="dask://127.0.0.1:8786")
    out = notes(root, "demos")
    assert out.returncode == 2
    assert out.stderr.strip().startswith("notes demos: mkdocs.yml:") and "set extra.demos.remote" in out.stderr


@pytest.fixture(scope="module")
def dask_cluster():
    """A Dask scheduler and two single-thread workers, each its own process, on 127.0.0.1."""
    pytest.importorskip("distributed")
    with services.dask_cluster(2) as url:
        yield url


def test_runs_fan_out_over_dask_workers_and_come_back_through_the_remote(tmp_path, dask_cluster) -> None:
    shared = tmp_path / "shared"
    root = project(tmp_path / "a", shared.as_uri(), executor=dask_cluster)
    page = root / "docs" / "index.md"
    page.write_text(page.read_text() + "\n!demo[Slow one](standalone/main?sleep=1.5)\n\n!demo[Slow two](standalone/main?sleep=1.6)\n")
    out = notes(root, "demos", "ok", "standalone", "fails")
    assert out.returncode == 1, out.stdout + out.stderr  # 'fails' fails on its worker, named as locally
    assert "FAILED  fails [default]: ValueError: the loss diverged at step 7" in out.stdout
    assert "5 ran" in out.stdout
    manifests = [json.loads(p.read_text()) for p in (root / ".demos-cache" / "entries").rglob("manifest.json")]
    workers = {m["worker"] for m in manifests}
    assert len(manifests) == 5 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    assert len(workers) == 2, "both workers took runs"
    do_build(root)
    runs = soup(root, "demo-runs/index.html").get_text(" ")
    assert "tcp://127.0.0.1:" in runs


def test_a_gpu_demo_on_workers_without_a_gpu_needs_a_gpu_run_and_is_not_a_failure(tmp_path, dask_cluster) -> None:
    shared = tmp_path / "shared"
    root = project(tmp_path / "a", shared.as_uri(), executor=dask_cluster)
    source = (root / "demos" / "standalone.py").read_text()
    (root / "demos" / "gpu_only.py").write_text(source.replace('"""Imports no', '"""Needs a GPU; imports no') + '\nDEVICE = "cuda"\n')
    out = notes(root, "demos", "gpu_only", "ok")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "skipped gpu_only [default]: needs a GPU run: worker tcp://127.0.0.1:" in out.stdout
    assert "3 demo runs: 2 ran, 0 cached, 0 failed, 1 need a GPU" in out.stdout  # ok: its default run and the page's
    assert not (root / ".demos-cache" / "entries" / "gpu_only").exists()


def test_a_folder_of_the_project_as_a_read_only_remote(tmp_path) -> None:
    """`remote: some/folder` is a file:// remote relative to the project; `remote_readonly: true` never pushes."""
    reader = project(tmp_path / "b", "committed", remote_readonly=True)
    writer = project(tmp_path / "a", (tmp_path / "b" / "committed").as_uri())
    assert notes(writer, "demos", "standalone").returncode == 0
    out = notes(reader, "demos", "ok", "standalone")
    assert "1 pulled" in out.stdout and "2 ran" in out.stdout, out.stdout + out.stderr
    assert len(list((tmp_path / "b" / "committed" / "entries").rglob("*.json"))) == 1  # what the reader ran stayed local


def test_a_demo_on_a_dask_worker_reads_none_of_the_workers_credentials(tmp_path, monkeypatch) -> None:
    """A worker holds the bucket's credentials to push; the demo it runs gets the same allow-listed environment as a local run."""
    pytest.importorskip("distributed")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "the-workers-secret")
    monkeypatch.setenv("CI_DEPLOY_TOKEN", "the-workers-token")
    with services.dask_cluster(1) as url:
        root = project(tmp_path / "a", (tmp_path / "shared").as_uri(), executor=url)
        source = (root / "demos" / "standalone.py").read_text()
        (root / "demos" / "envdump.py").write_text(source.replace(
            'json.dumps({"slept": cfg.sleep})', 'json.dumps({"env": dict(__import__("os").environ)})'))
        out = notes(root, "demos", "envdump")
    assert out.returncode == 0, out.stdout + out.stderr
    [data] = (root / ".demos-cache" / "entries" / "envdump").rglob("data.json")
    env = json.loads(data.read_text())["env"]
    assert not {k for k, v in env.items() if v in ("the-workers-secret", "the-workers-token")}, sorted(env)
    assert env["OMP_NUM_THREADS"] == "1" and "AWS_SECRET_ACCESS_KEY" not in env


def test_what_a_run_replaced_travels_with_it_through_the_shared_cache(tmp_path, caplog) -> None:
    """A run made on one machine to replace an earlier one keeps that run's data in its entry; a build
    elsewhere that pulls the entry lists on its Demo runs page what moved, and who cites it."""
    remote = (tmp_path / "shared").as_uri()
    laptop = project(tmp_path / "laptop", remote)
    (laptop / "docs" / "index.md").write_text("# Home\n\nThe answer: `{run} ok answer`.\n", encoding="utf-8")
    do_build(laptop)  # runs and pushes
    demo = laptop / "demos" / "ok.py"
    demo.write_text(demo.read_text().replace("42 * cfg.scale", "44 * cfg.scale"))
    do_build(laptop)  # runs again (the demo changed), keeping the first run's data, and pushes
    ci = tmp_path / "ci"
    shutil.copytree(laptop, ci, ignore=shutil.ignore_patterns(".demos-cache", "site"))
    caplog.clear()
    caplog.set_level("INFO")
    do_build(ci)  # an empty local cache: everything is pulled
    assert "0 ran" in caplog.text and "pulled from the remote cache" in caplog.text
    assert soup(ci).select_one("a.kb-number").get_text() == "44"
    moved = soup(ci, "demo-runs/index.html").find(id="moved-run-ok-default").find_next("tbody").find("tr")
    assert [td.get_text(" ", strip=True) for td in moved.find_all("td")] == ["answer", "42", "44", "+4.8 %", "Home (line 3)"]
