"""Pruning: zero the smallest weights (magnitude pruning) or remove whole units (structured
pruning) to get a genuinely smaller and faster model, and a report comparing the two models.

Examples
--------
>>> import profond
>>> from profond import layers, pruning
>>> model = profond.Sequential([layers.Input((8,)), layers.Dense(32, activation="relu"),
...                             layers.Dense(32, activation="relu"), layers.Dense(3)])
>>> small = pruning.prune_neurons(model, amount=0.5)
>>> [layer.units for layer in small.layers], small.count_params() < model.count_params()
([16, 16, 3], True)
"""

from profond.pruning.gradual import NeuronPruning, adopt_layers
from profond.pruning.magnitude import (ConstantSparsity, PolynomialSparsity, PruningCallback,
                                       PruningSchedule, UpdatePruningStep, get_sparsity,
                                       prunable_weights, prune_low_magnitude, strip_pruning)
from profond.pruning.report import (PruningReport, count_flops, nonzero_params, report,
                                    weights_file_size)
from profond.pruning.structured import CRITERIA, neuron_scores, prunable_layers, prune_neurons

__all__ = ["prune_low_magnitude", "strip_pruning", "PruningCallback", "UpdatePruningStep",
           "PruningSchedule", "ConstantSparsity", "PolynomialSparsity", "get_sparsity",
           "prunable_weights", "prune_neurons", "neuron_scores", "prunable_layers", "CRITERIA",
           "NeuronPruning", "adopt_layers", "report", "PruningReport", "count_flops",
           "weights_file_size", "nonzero_params"]
