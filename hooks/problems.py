"""Problems found in the sources: one line each, naming the file and line and what to do."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """A mistake a user can make, reported as ``path:line: message``."""

    path: str  # relative to the project root, POSIX separators
    line: int  # 1-based; 0 when the problem concerns the whole file
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class ProblemsError(Exception):
    """Raised when a build or a command cannot go on; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]
