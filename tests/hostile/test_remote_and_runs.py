"""The demos under hostile conditions: what a demo can read, what a remote cache can make the site publish,
and a remote or a Dask scheduler that is down, answers garbage or never answers.

Each case is a defect a hostile review found; each fails on the code before its fix.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from hooks.figures.spec import params_id
from tests.hostile.conftest import Project, assert_one_line, build, cli, fake_demo, notes

pytest.importorskip("fsspec")

PAGE = "# Figures\n\n!demo[The square](ok/main)\n"
SCRIPT_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
              b'<script>fetch("/steal?c=" + document.cookie)</script><rect width="40" height="20"/></svg>\n')


def _with_remote(project: Project, url: str, **demos) -> None:
    project.settings(demos={"timeout": 30, "jobs": 2, "remote": url, **demos})
    project.page("figures.md", PAGE)


def _site_svgs(project: Project) -> dict[str, bytes]:
    return {p.relative_to(project.site).as_posix(): p.read_bytes() for p in (project.site / "demos").rglob("*.svg")}


def _forge(shared: Path, demo: str, change: Callable[[dict], dict[str, bytes]]) -> None:
    """Rewrite every remote manifest of ``demo``: ``change`` edits it and returns files to add (name -> bytes),
    each stored as an object with its true SHA-256, as someone with write access to the bucket would."""
    paths = list((shared / "entries" / demo).glob("*.json"))
    assert paths
    for path in paths:
        manifest = json.loads(path.read_text())
        for name, data in change(manifest).items():
            digest = hashlib.sha256(data).hexdigest()
            obj = shared / "objects" / digest[:2] / digest
            obj.parent.mkdir(parents=True, exist_ok=True)
            obj.write_bytes(data)
            manifest["files"][name] = digest
        path.write_text(json.dumps(manifest))


def _fresh_copy(project: Project) -> None:
    """As another machine: no local cache, no site."""
    shutil.rmtree(project.root / ".demos-cache", ignore_errors=True)
    shutil.rmtree(project.site, ignore_errors=True)


# --- 2: a demo's environment ----------------------------------------------------------------------

ENV_DUMP = fake_demo("Writes every variable of its environment into data.json.", body="    data = {'env': dict(os.environ)}\n")


def test_a_demo_reads_no_credentials_from_the_environment(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {"AWS_SECRET_ACCESS_KEY": "aws-secret", "AWS_ACCESS_KEY_ID": "aws-id", "GITHUB_TOKEN": "ghp_secret",
               "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "SOME_API_KEY": "key", "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    project.demo("envdump", ENV_DUMP)
    out = notes(project.root, "demos", "envdump")
    assert out.rc == 0, out.text
    [entry] = (project.root / ".demos-cache" / "entries" / "envdump").iterdir()
    env = json.loads((entry / "data.json").read_text())["env"]
    leaked = {k for k, v in env.items() if v in ("aws-secret", "aws-id", "ghp_secret", "key") or k.startswith("AWS_")}
    assert not leaked, f"the demo read {sorted(leaked)}"
    assert env["LC_ALL"] == "C.UTF-8" and env["TZ"] == "UTC"  # the locale and time zone do pass
    assert env["HOME"] != os.environ.get("HOME") and "demo-envdump-" in env["HOME"]  # a private home
    assert env["OMP_NUM_THREADS"] == "1" and env["MPLBACKEND"] == "Agg" and env["PATH"]


# --- 2: what a pulled entry may bring --------------------------------------------------------------

def _unpromised_figure(manifest: dict) -> dict[str, bytes]:
    manifest["figures"] = [*manifest.get("figures", []), "evil"]
    return {"evil-light.svg": SCRIPT_SVG, "evil-dark.svg": SCRIPT_SVG}


def _script_in_a_promised_figure(manifest: dict) -> dict[str, bytes]:
    return {"main-light.svg": SCRIPT_SVG}


@pytest.mark.parametrize("forgery", [_unpromised_figure, _script_in_a_promised_figure], ids=["unpromised-figure", "script-svg"])
def test_a_forged_remote_entry_publishes_no_script(project: Project, tmp_path: Path, forgery) -> None:
    shared = tmp_path / "shared"
    _with_remote(project, shared.as_uri())
    assert build(project).rc == 0
    _forge(shared, "ok", forgery)
    _fresh_copy(project)
    built = build(project)
    assert built.rc == 0, built.text
    svgs = _site_svgs(project)
    assert svgs and not any(name.endswith(("evil-light.svg", "evil-dark.svg")) for name in svgs), sorted(svgs)
    assert not any(b"<script" in data for data in svgs.values())
    assert not list((project.root / ".demos-cache" / "entries" / "ok").rglob("evil-*.svg"))
    assert any("remote cache" in line and "ok [" in line and "ignored" in line for line in built.text.splitlines()), built.text


@pytest.fixture(scope="module")
def s3_bucket() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 with a bucket (credentials and endpoint in the environment while it runs)."""
    pytest.importorskip("s3fs")
    pytest.importorskip("moto")
    from tests import services

    with services.s3_server("hostile-cache"):
        yield "hostile-cache"


def test_a_forged_s3_entry_with_a_script_figure_is_refused(project: Project, s3_bucket: str, tmp_path: Path) -> None:
    import s3fs

    prefix = f"{s3_bucket}/{tmp_path.name}"
    _with_remote(project, f"s3://{prefix}")
    assert build(project).rc == 0
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    [path] = fs.glob(f"{prefix}/entries/ok/*.json")
    manifest = json.loads(fs.cat_file(path))
    for name, data in _unpromised_figure(manifest).items():
        digest = hashlib.sha256(data).hexdigest()
        fs.pipe_file(f"{prefix}/objects/{digest[:2]}/{digest}", data)
        manifest["files"][name] = digest
    fs.pipe_file(path, json.dumps(manifest).encode())
    _fresh_copy(project)
    built = build(project)
    assert built.rc == 0, built.text
    svgs = _site_svgs(project)
    assert svgs and not any(b"<script" in data for data in svgs.values()), sorted(svgs)
    assert any("the demo promises" in line and "ignored, running it here" in line for line in built.text.splitlines()), built.text


# --- 3 and 5: a remote that is down, answers garbage, or never answers ------------------------------

@pytest.fixture
def endpoint() -> Iterator[Callable[[str], int]]:
    """A port on 127.0.0.1 that is closed, answers garbage, or accepts and never answers."""
    sockets: list[socket.socket] = []

    def start(mode: str) -> int:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        if mode == "closed":
            server.close()
            return port
        server.listen(64)
        sockets.append(server)

        def serve() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                sockets.append(conn)
                if mode == "garbage":
                    try:
                        conn.recv(65536)
                        conn.sendall(b"garbage\r\n\r\n")
                        conn.close()
                    except OSError:
                        pass

        threading.Thread(target=serve, daemon=True).start()
        return port

    yield start
    for s in sockets:
        s.close()


def _s3_env(port: int) -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}


@pytest.mark.parametrize("mode", ["closed", "garbage"])
def test_an_unreachable_remote_is_one_line_and_the_build_goes_on(project: Project, endpoint, mode: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("s3fs")
    for name, value in _s3_env(endpoint(mode)).items():
        monkeypatch.setenv(name, value)
    _with_remote(project, "s3://demo-cache/unreachable", network_timeout=2)
    started = time.monotonic()
    built = build(project)
    assert built.rc == 0, built.text
    assert time.monotonic() - started < 30
    remote_lines = [line for line in built.text.splitlines() if "s3://demo-cache/unreachable" in line and "looking up" not in line]
    assert 1 <= len(remote_lines) <= 2, remote_lines  # the lookup that failed; pushes skipped
    assert "Traceback" not in built.text
    assert (project.site / "demos" / "ok" / "main-light.svg").is_file()


def test_a_remote_that_never_answers_is_given_up_on_in_seconds(project: Project, endpoint) -> None:
    pytest.importorskip("s3fs")
    _with_remote(project, "s3://demo-cache/silent", network_timeout=1)
    started = time.monotonic()
    proc = cli(project.root, "mkdocs", "build", timeout=45, env=_s3_env(endpoint("silent")))
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 30
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "s3://demo-cache/silent" in line]
    assert lines and any("1 s" in line for line in lines), proc.stderr  # says what it waited for, and how long


def test_a_dask_scheduler_that_never_answers_is_one_line_in_seconds(project: Project, endpoint, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    port = endpoint("silent")
    project.settings(demos={"timeout": 30, "jobs": 2, "remote": (tmp_path / "shared").as_uri(),
                            "executor": f"dask://127.0.0.1:{port}", "network_timeout": 1})
    started = time.monotonic()
    proc = cli(project.root, "notes", "demos", timeout=45)
    assert time.monotonic() - started < 30
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = [line for line in proc.stderr.splitlines() if f"127.0.0.1:{port}" in line]
    assert "did not answer within 1 s" in line


# --- 4 and 8: remote and local manifests are validated ---------------------------------------------

def _seconds_text(manifest: dict) -> dict[str, bytes]:
    manifest["seconds"] = "abc"
    return {}


def _no_data(manifest: dict) -> dict[str, bytes]:
    del manifest["files"]["data.json"]
    return {}


def _markup_date(manifest: dict) -> dict[str, bytes]:
    manifest["finished_at"] = "<i>x</i>-01-01T00:00:00Z"  # the page shows its first ten characters
    return {}


def _huge_figure(manifest: dict) -> dict[str, bytes]:
    return {"main-dark.svg": b"<svg>" + b" " * (65 << 20) + b"</svg>"}


@pytest.mark.parametrize("forgery", [_seconds_text, _no_data, _markup_date, _huge_figure],
                         ids=["seconds-text", "no-data-json", "markup-in-date", "65-MiB-figure"])
def test_a_malformed_remote_manifest_is_one_line_and_a_run_here(project: Project, tmp_path: Path, forgery) -> None:
    shared = tmp_path / "shared"
    _with_remote(project, shared.as_uri())
    assert build(project).rc == 0
    _forge(shared, "ok", forgery)
    _fresh_copy(project)
    built = build(project)
    assert built.rc == 0, built.text
    html = (project.site / "figures" / "index.html").read_text() + (project.site / "demo-runs" / "index.html").read_text()
    assert "<i>x</i>" not in html
    damaged = [line for line in built.text.splitlines() if "remote cache" in line and "ok [" in line]
    assert damaged and all("ignored, running it here" in line for line in damaged), built.text
    for manifest in (project.root / ".demos-cache" / "entries" / "ok").rglob("manifest.json"):
        m = json.loads(manifest.read_text())
        assert isinstance(m["seconds"], (int, float)) and "data.json" in m["files"]
    assert built.rc == 0 and build(project).rc == 0  # and the next build, without a pull, too


def test_a_malformed_local_entry_is_treated_as_absent(project: Project) -> None:
    project.page("figures.md", PAGE)
    assert build(project).rc == 0
    for manifest in (project.root / ".demos-cache" / "entries" / "ok").rglob("manifest.json"):
        m = json.loads(manifest.read_text())
        m["seconds"], m["finished_at"] = "abc", "<b>b</b>"
        manifest.write_text(json.dumps(m))
    built = build(project)
    assert built.rc == 0, built.text
    assert "<b>b</b>" not in (project.site / "figures" / "index.html").read_text()
    assert any("ok [" in line and "damaged" in line for line in built.text.splitlines()), built.text
    check = notes(project.root, "check")
    assert check.rc == 0, check.text


# --- 7: different parameter values never share a run -----------------------------------------------

@pytest.mark.parametrize("a, b", [
    ({"label": "a b"}, {"label": "a-b"}),
    ({"freqs": "1,3,5"}, {"freqs": "1, 3, 5"}),
    ({"label": "x_steps-3"}, {"label": "x", "steps": 3}),
    ({"label": "é" * 70}, {"label": "è" * 70}),
])
def test_different_parameters_get_different_run_folders(a: dict, b: dict) -> None:
    assert params_id(a) != params_id(b)


def test_readable_ids_that_were_already_unambiguous_stay_as_published() -> None:
    assert params_id({}) == "default"
    assert params_id({"scale": 7.0}) == "scale-7.0"
    assert params_id({"label": "a-b", "steps": 5}) == "label-a-b_steps-5"
    long = {"n_train": 123456789, "label": "abcdefghijklmnopqrstuvwxyz0123456789"}
    assert params_id(long).startswith("label-abcdefghijklmnopqrstuvwxyz0123")


# --- 9: a demo that prints without end ----------------------------------------------------------------

LOUD = fake_demo("Prints 40 MiB.", body="    sys.stdout.write('x' * (40 << 20) + '\\nthe end\\n')\n")


def test_a_demo_that_prints_40_mib_keeps_a_capped_log(project: Project) -> None:
    project.demo("loud", LOUD)
    out = notes(project.root, "demos", "loud")
    assert out.rc == 0, out.text
    [entry] = (project.root / ".demos-cache" / "entries" / "loud").iterdir()
    log = (entry / "log.txt").read_bytes()
    assert len(log) <= 1 << 20, len(log)
    assert b"bytes of output cut" in log and log.rstrip().endswith(b"the end")


# --- 15: a NUL byte in a setting ------------------------------------------------------------------

@pytest.mark.parametrize("key, value", [("cache_dir", "cache\0dir"), ("remote", "shared\0folder"), ("remote", "file:///tmp/a\0b")])
def test_a_nul_byte_in_a_folder_setting_is_one_line(project: Project, key: str, value: str) -> None:
    project.settings(demos={"timeout": 30, key: value})
    where = f"mkdocs.yml:{project.line_of('mkdocs.yml', key + ':')}: extra.demos.{key} "
    check = notes(project.root, "check")
    assert check.rc == 2, check.text
    assert "NUL" in assert_one_line(check, where)
    built = build(project)
    assert built.rc == 1
    assert "NUL" in assert_one_line(built, where)
