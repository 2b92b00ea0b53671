"""The concept map laid out in a process of its own, on another core, while the build renders pages.

The layout (hooks.kb.graph.lay_out: numpy's import, a spring layout and the boxes pushed apart) is
about a third of a second that depends only on the knowledge base. MkDocs converts every page's
Markdown before it writes the first one, so a build starts the layout as soon as the knowledge base
is built and takes the result when the home page or the concept map page is written: at 1,000 notes
the pages' conversion takes seconds and the layout is ready by then.

The worker is this module run as ``python -m hooks.kb.map_worker``: the graph as JSON on its standard
input, the laid out map as JSON on its standard output. Should it fail for any reason, the layout is
made in the build's own process instead (where a real error then shows itself), so the map is the
same either way; tests/test_graph.py checks that it is.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from hooks.kb.graph import ConceptMap, MapGraph, MapNode, lay_out

_PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
_ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")  # the layout's arrays are small


def _map_to_json(cmap: ConceptMap) -> dict:
    return dataclasses.asdict(cmap)


def _map_from_json(data: dict) -> ConceptMap:
    nodes = [MapNode(**{**n, "box": tuple(n["box"])}) for n in data["nodes"]]
    narrow = _map_from_json(data["narrow"]) if data.get("narrow") else None
    return ConceptMap(nodes, [tuple(e) for e in data["edges"]], data["width"], data["height"], data["font"], narrow)


class LayoutWorker:
    """A layout started now and taken with :meth:`result`; :meth:`cancel` when it will not be needed."""

    def __init__(self, graph: MapGraph) -> None:
        self.graph = graph
        self._result: ConceptMap | None = None
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
        env.update({name: "1" for name in _ONE_THREAD})
        try:
            self._proc: subprocess.Popen | None = subprocess.Popen(
                [sys.executable, "-m", "hooks.kb.map_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, env=env, cwd=str(_PROJECT_ROOT))
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps(dataclasses.asdict(graph)).encode())
            self._proc.stdin.close()
        except OSError:
            self.cancel()

    def result(self) -> ConceptMap:
        if self._result is None:
            if self._proc is not None:
                assert self._proc.stdout is not None
                out = self._proc.stdout.read()
                self._proc.stdout.close()
                if self._proc.wait() == 0:
                    try:
                        self._result = _map_from_json(json.loads(out))
                    except (ValueError, KeyError, TypeError):
                        pass
                self._proc = None
            if self._result is None:  # the worker could not do it: here, where an error shows itself
                self._result = lay_out(self.graph)
        return self._result

    def cancel(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is not None:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self._proc = None


def main() -> None:
    data = json.loads(sys.stdin.buffer.read())
    graph = MapGraph(**{**data, "edges": [tuple(e) for e in data["edges"]]})
    sys.stdout.write(json.dumps(_map_to_json(lay_out(graph))))


if __name__ == "__main__":
    main()
