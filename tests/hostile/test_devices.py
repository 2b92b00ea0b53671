"""Devices: a GPU driver with a CPU build of torch is a CPU machine; a demo's DEVICE decides what it
runs on, and its key and provenance record the device it actually used."""
from __future__ import annotations

import importlib.machinery
from pathlib import Path

import pytest

from hooks.figures import plan
from hooks.site import Session, plan_site
from tests.hostile.conftest import Project, fake_demo, notes


@pytest.fixture
def nvidia_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend /dev/nvidia0 exists (as in a container on a GPU host)."""
    real = Path.exists
    monkeypatch.setattr(Path, "exists", lambda self: str(self) == "/dev/nvidia0" or real(self))


def fake_torch(folder: Path, monkeypatch: pytest.MonkeyPatch, cuda: str | None) -> None:
    """An installed torch whose version.py says which CUDA it was built for (None: a CPU build)."""
    package = folder / "torch"
    package.mkdir()
    (package / "version.py").write_text(f"__version__ = '2.13.0'\ncuda: Optional[str] = {cuda!r}\n")
    spec = importlib.machinery.ModuleSpec("torch", None, is_package=True)
    spec.submodule_search_locations = [str(package)]
    monkeypatch.setattr(plan.importlib.util, "find_spec", lambda name: spec if name == "torch" else None)


def test_a_driver_with_a_cpu_build_of_torch_is_a_cpu_machine(nvidia_driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_torch(tmp_path, monkeypatch, None)
    assert plan.machine_device("auto") == "cpu"
    assert plan.cuda_missing() == "the installed torch is a CPU build"
    with pytest.raises(plan.ConfigError, match="cannot run CUDA \\(the installed torch is a CPU build\\)"):
        plan.machine_device("cuda")


def test_a_driver_with_a_cuda_build_of_torch_is_a_gpu_machine(nvidia_driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_torch(tmp_path, monkeypatch, "12.4")
    assert plan.machine_device("auto") == "cuda"
    assert plan.machine_device("cpu") == "cpu"


def test_each_demo_runs_where_its_device_says_and_its_key_says_so(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.demo("any_device", fake_demo(tail="DEVICE = 'any'\n"))
    project.demo("gpu_only", fake_demo(tail="DEVICE = 'cuda'\n"))
    from hooks.mkdocs_files import load_project

    def jobs(machine: str) -> dict[str, tuple[str, str, bool]]:
        monkeypatch.setattr(plan, "machine_device", lambda requested="auto": machine)
        project_, files = load_project(project.config)
        planned = plan_site(project_, files, session=Session(project.root)).jobs
        return {j.name: (j.device, j.key, j.runnable) for j in planned}

    on_cpu, on_gpu = jobs("cpu"), jobs("cuda")
    assert {name: device for name, (device, _, _) in on_cpu.items()} == {"any_device": "cpu", "gpu_only": "cuda", "ok": "cpu"}
    assert {name: device for name, (device, _, _) in on_gpu.items()} == {"any_device": "cuda", "gpu_only": "cuda", "ok": "cpu"}
    assert on_cpu["ok"][1] == on_gpu["ok"][1], "a CPU demo's key must not depend on the machine's GPU"
    assert on_cpu["any_device"][1] != on_gpu["any_device"][1]
    assert on_cpu["gpu_only"][2] is False and on_gpu["gpu_only"][2] is True


def test_a_gpu_demo_on_a_cpu_machine_is_skipped_not_failed(project: Project) -> None:
    project.demo("gpu_only", fake_demo(tail="DEVICE = 'cuda'\n"))
    if plan.cuda_available():
        pytest.skip("this machine can run CUDA")
    out = notes(project.root, "demos", "gpu_only")
    assert out.rc == 0, out.text
    assert "skipped gpu_only [default]: needs a GPU run: notes demos gpu_only --device cuda" in out.text
    assert not (project.root / ".demos-cache" / "entries" / "gpu_only").exists()
