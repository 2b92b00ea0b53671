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
        return f"{where}: {self.message}" if where else self.message


class LocatedError(ValueError):
    """A mistake raised where it is found, carrying its file and line as fields (not in the text).

    Whoever catches it and knows more (the page that asked for a demo, the line of a directive)
    fills in what is missing with :meth:`problem`.
    """

    def __init__(self, message: str, path: str = "", line: int = 0):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def problem(self, path: str = "", line: int = 0, severity: Severity = "error") -> Problem:
        return Problem(self.path or path, self.line or line, self.message, severity)

    def __str__(self) -> str:
        return str(self.problem())


class ProblemsError(Exception):
    """Raised when a build or a command cannot go on; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def failing(problems: Iterable[Problem], strict: bool) -> list[Problem]:
    """The problems that stop a build: errors, and under ``--strict`` warnings too."""
    return sorted(problems) if strict else errors(problems)
