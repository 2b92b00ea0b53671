"""The concept map laid out in a process of its own, on another core, while the build renders pages.

The layout (hooks.kb.graph.lay_out: numpy's import, a spring layout and the boxes pushed apart) is
about a third of a second that depends only on the knowledge base. MkDocs converts every page's
Markdown before it writes the first one, so a build starts the layout as soon as the knowledge base
is built and takes the result when the home page or the concept map page is written: at 1,000 notes
the pages' conversion takes seconds and the layout is ready by then. Under ``mkdocs serve`` the
process is kept for the session, numpy loaded, and given the map again whenever a save changes it
(a new link from one of the newest notes does).

The worker is this module run as ``python -m hooks.kb.map_worker``: a graph as one line of JSON on
its standard input, the laid out map as one line of JSON on its standard output, as often as it is
asked. Should it fail for any reason, the layout is made in the build's own process instead (where
a real error then shows itself), so the map is the same either way; tests/test_graph.py checks
that it is.
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
    """A process that lays out concept maps one after another: :meth:`submit` a graph, take its map
    with :meth:`result`; :meth:`close` when no more will be asked for."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._graph: MapGraph | None = None
        self._result: ConceptMap | None = None
        self._waiting = False  # the process owes an answer for the graph last submitted

    def _start(self) -> subprocess.Popen | None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
        env.update({name: "1" for name in _ONE_THREAD})
        try:
            return subprocess.Popen([sys.executable, "-m", "hooks.kb.map_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, env=env, cwd=str(_PROJECT_ROOT))
        except OSError:
            return None

    def submit(self, graph: MapGraph) -> None:
        """Start laying out ``graph`` (an answer still owed for an earlier one is waited for and dropped)."""
        if self._waiting:
            self._read()
        self._graph, self._result = graph, None
        if self._proc is None or self._proc.poll() is not None:
            self.close()
            self._proc = self._start()
        if self._proc is None:
            return
        try:
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps(dataclasses.asdict(graph)).encode() + b"\n")
            self._proc.stdin.flush()
            self._waiting = True
        except OSError:
            self.close()

    def _read(self) -> ConceptMap | None:
        """The process's answer to the graph last submitted, or None (and the process stopped) when it has none."""
        self._waiting = False
        try:
            assert self._proc is not None and self._proc.stdout is not None
            return _map_from_json(json.loads(self._proc.stdout.readline()))
        except (OSError, ValueError, KeyError, TypeError):
            self.close()
            return None

    def result(self) -> ConceptMap:
        """The map of the graph last submitted."""
        assert self._graph is not None, "submit a graph first"
        if self._result is None:
            if self._waiting:
                self._result = self._read()
            if self._result is None:  # the worker could not do it: here, where an error shows itself
                self._result = lay_out(self._graph)
        return self._result

    def close(self) -> None:
        proc, self._proc = self._proc, None
        self._waiting = False
        if proc is not None:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()


def main() -> None:
    for line in sys.stdin.buffer:
        data = json.loads(line)
        graph = MapGraph(**{**data, "edges": [tuple(e) for e in data["edges"]]})
        sys.stdout.write(json.dumps(_map_to_json(lay_out(graph))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
