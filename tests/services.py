"""Real services on 127.0.0.1 for the tests and the benchmarks: moto's standalone S3 server and a Dask
scheduler with single-thread workers, each its own process, started here and stopped on exit."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from typing import Iterator


class ServiceError(RuntimeError):
    """A service did not start."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, what: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"{what} exited at start with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise ServiceError(f"{what} did not listen on 127.0.0.1:{port} within {seconds} s")


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@contextlib.contextmanager
def s3_server(bucket: str) -> Iterator[str]:
    """moto's S3 server holding ``bucket``; the credentials and endpoint are in os.environ, as a user
    sets them, while it runs. Yields the endpoint URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    saved = {k: os.environ.get(k) for k in env}
    try:
        wait_port(port, proc, "moto_server")
        os.environ.update(env)
        import s3fs

        s3fs.S3FileSystem(skip_instance_cache=True).mkdir(bucket)
        yield env["AWS_ENDPOINT_URL"]
    finally:
        _stop([proc])
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def dask_cluster(workers: int = 2) -> Iterator[str]:
    """A Dask scheduler and ``workers`` single-thread workers; yields the executor URL ``dask://HOST:PORT``."""
    port = free_port()
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--dashboard-address", ":0", "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [scheduler]
    try:
        wait_port(port, scheduler, "dask scheduler")
        procs += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1",
                                    "--nworkers", "1", "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(workers)]
        from distributed import Client

        with Client(f"127.0.0.1:{port}", timeout="30s") as client:
            client.wait_for_workers(workers, timeout=60)
        yield f"dask://127.0.0.1:{port}"
    finally:
        _stop(procs[1:] + procs[:1])
