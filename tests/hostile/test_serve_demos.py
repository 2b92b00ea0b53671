"""Under `mkdocs serve` a slow demo must not hold up the build (the live server
answers no request while one runs). A serve build shows what the cache has and runs the rest beside
it; the build after the run ends shows the new figure.
"""
from __future__ import annotations

import logging
import time

from tests.hostile.conftest import Project, fake_demo
from tests.test_serve import ServeSession, background_runs, serve_mode  # noqa: F401 (serve_mode: a fixture)

SLOW = fake_demo("Sleeps, then draws a square.", fields="seconds: float = 3.0  # how long the run takes",
                 tail="TIMEOUT_S = 30", body="    time.sleep(cfg.seconds)")
PAGE = "# Figures\n\n!demo[The slow square](slow/main)\n"


def _page(project: Project) -> str:
    return (project.site / "figures" / "index.html").read_text(encoding="utf-8")


def _started(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "demo slow [default]: running in the background" in r.getMessage()]


def test_a_slow_demo_runs_beside_serve_builds_and_the_build_after_it_shows_the_figure(project: Project, serve_mode, caplog) -> None:
    caplog.set_level(logging.INFO)
    project.demo("slow", SLOW)
    project.page("figures.md", PAGE)
    serve = ServeSession(project.config, project.site)

    began = time.monotonic()
    serve.build_once()
    assert time.monotonic() - began < 2.5, "the build waited for the demo"
    assert "running…" in _page(project) and "slow/main-light.svg" not in _page(project)
    assert "running in the background" in (project.site / "demo-runs" / "index.html").read_text(encoding="utf-8")
    runs = background_runs()
    assert runs is not None and runs.running() >= 1  # the slow run (and the ok demo's default run, soon over)

    serve.build_once()  # a save while the run goes on: the run is not started again
    assert runs.running() >= 1 and "running…" in _page(project)
    assert len(_started(caplog)) == 1, _started(caplog)

    assert runs.wait_for_runs(timeout=30), "no run ended"
    ended = [r.getMessage() for r in caplog.records if "demo slow [default]: ran in" in r.getMessage()]
    assert len(ended) == 1, ended
    rendered = serve.build_once()
    assert "figures.md" in rendered
    assert "slow/main-light.svg" in _page(project) and "running" not in _page(project).lower()
    assert not runs.wait_for_runs(timeout=0), "nothing new once the figure is shown"

    # A change of the demo is a new run: the page keeps the last good figure, marked as being replaced.
    project.demo("slow", SLOW.replace("Sleeps, then", "Sleeps a while, then"))
    began = time.monotonic()
    serve.build_once()
    assert time.monotonic() - began < 2.5
    page = _page(project)
    assert "slow/main-light.svg" in page and "Running: a new run of this demo is in progress" in page
    assert runs.wait_for_runs(timeout=30)
    serve.build_once()
    assert "Running:" not in _page(project) and "slow/main-light.svg" in _page(project)


def test_a_demo_that_fails_in_the_background_is_shown_failed_and_not_run_again_by_every_save(project: Project, serve_mode, caplog) -> None:
    caplog.set_level(logging.INFO)
    project.demo("slow", fake_demo("Fails.", body="    raise RuntimeError('no square today')"))
    project.page("figures.md", PAGE)
    serve = ServeSession(project.config, project.site)
    serve.build_once()
    runs = background_runs()
    assert runs is not None and runs.wait_for_runs(timeout=30)
    serve.build_once()
    serve.build_once()
    assert "no square today" in _page(project) and "running…" not in _page(project)
    assert len(_started(caplog)) == 1, "the same failing source ran again"
    assert any("demo slow [default]: failed in" in r.getMessage() for r in caplog.records)


def test_serve_background_false_runs_demos_inside_the_serve_build(project: Project, serve_mode) -> None:
    project.settings(demos={"timeout": 30, "jobs": 2, "serve_background": False})
    project.demo("slow", SLOW.replace("seconds: float = 3.0", "seconds: float = 1.0"))
    project.page("figures.md", PAGE)
    serve = ServeSession(project.config, project.site)
    serve.build_once()
    assert "slow/main-light.svg" in _page(project) and "running…" not in _page(project)
    runs = background_runs()
    assert runs is not None and runs.running() == 0 and not runs.wait_for_runs(timeout=0)


def test_mkdocs_serve_answers_while_a_slow_demo_runs_and_shows_its_figure_when_it_ends(project: Project, tmp_path) -> None:
    from tests.test_serve import _get, serving, wait

    project.demo("slow", SLOW.replace("seconds: float = 3.0", "seconds: float = 8.0"))
    project.page("figures.md", PAGE)
    log_path = tmp_path / "serve.log"
    with serving(project.root, log_path) as (port, proc):
        page = f"http://127.0.0.1:{port}/kb/figures/"
        # a page that says running… was served while the run went on (before, no request was answered until it ended)
        assert wait(lambda: "running…" in _get(page), 60), log_path.read_text()[-3000:]
        assert wait(lambda: "slow/main-light.svg" in _get(page), 60), log_path.read_text()[-3000:]
        assert proc.poll() is None
    text = log_path.read_text()
    assert "demo slow [default]: running in the background" in text and "demo slow [default]: ran in" in text


def test_a_demo_that_ends_during_the_first_serve_build_is_shown_without_an_edit(project: Project, tmp_path) -> None:
    """MkDocs watches nothing until its first build ends: a run ending during it must still bring the
    build that shows its figure (it once waited for the next save)."""
    from tests.test_serve import _get, serving, wait

    project.demo("slow", SLOW.replace("seconds: float = 3.0", "seconds: float = 0.0"))
    project.page("figures.md", PAGE)
    log_path = tmp_path / "serve.log"
    with serving(project.root, log_path) as (port, proc):
        page = f"http://127.0.0.1:{port}/kb/figures/"
        assert wait(lambda: "slow/main-light.svg" in _get(page), 60), log_path.read_text()[-3000:]
        assert proc.poll() is None
