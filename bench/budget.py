"""A wall-clock budget shared by the sections: how many repeats still fit."""
from __future__ import annotations

import time


class Budget:
    """Seconds a section may spend; ``fits(estimate)`` says whether one more measurement still fits."""

    def __init__(self, seconds: float, name: str = ""):
        self.name = name
        self.seconds = seconds
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def left(self) -> float:
        return self.seconds - self.elapsed

    def fits(self, estimate: float, margin: float = 1.15) -> bool:
        """Whether ``estimate`` seconds (taken ``margin`` times, for noise) fit in what is left."""
        return estimate * margin <= self.left
