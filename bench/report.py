"""What a section hands back: Markdown for RESULTS.md and the goals it checked."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Goal:
    section: str
    text: str  # the goal, e.g. "1,000 notes: (a) ≤ 1.3× (b) in time"
    measured: str  # e.g. "1.12× (1.05–1.20)"
    met: bool | None  # None: could not be measured


@dataclass
class Section:
    name: str
    title: str
    markdown: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, text: str) -> None:
        self.markdown.append(text)

    def goal(self, text: str, measured: str, met: bool | None) -> Goal:
        g = Goal(self.name, text, measured, met)
        self.goals.append(g)
        return g

    def render(self) -> str:
        out = [f"## {self.title}", ""]
        for block in self.markdown:
            out += [block, ""]
        if self.goals:
            out += ["Goals:", ""]
            for g in self.goals:
                out.append(f"- {g.text}: measured {g.measured}: {verdict(g.met)}")
            out.append("")
        out.append(f"Section time: {self.seconds:.0f} s.")
        return "\n".join(out)


def verdict(met: bool | None) -> str:
    if met is None:
        return "**not measured**"
    return "**met**" if met else "**MISSED**"
