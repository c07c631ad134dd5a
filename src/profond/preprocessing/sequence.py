"""``keras.preprocessing.sequence``: :func:`profond.utils.pad_sequences` under its older path."""

from profond.utils import pad_sequences

__all__ = ["pad_sequences"]
