"""Models: ``Model`` (subclass it and write ``call``) and ``Sequential``."""

from profond.models.model import Model
from profond.models.sequential import Sequential

__all__ = ["Model", "Sequential"]
