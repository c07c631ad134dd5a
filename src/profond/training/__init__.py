"""Training machinery shared by models: batching and nested data structures."""

from profond.training.batching import ArrayBatches, num_samples

__all__ = ["ArrayBatches", "num_samples"]
