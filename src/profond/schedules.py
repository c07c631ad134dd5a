"""Learning-rate schedules: pure functions of the optimizer's step count.

A schedule is called as ``schedule(step) -> learning rate``; the optimizer calls it with its
``iterations`` before each update.
"""

from __future__ import annotations

__all__ = ["LearningRateSchedule"]


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step) -> float``."""

    def __call__(self, step: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
