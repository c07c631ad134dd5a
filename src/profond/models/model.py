"""``Model``: a layer that can be compiled, trained, evaluated and used for prediction.

Subclass it and write ``call`` (as in Keras), or use :class:`~profond.models.Sequential`.
"""

from __future__ import annotations

import warnings

from profond import backend
from profond import distribution as distribution_mod
from profond import optimizers as optimizers_mod
from profond._validation import check_int
from profond.autograd.engine import no_grad
from profond.autograd.tensor import Tensor
from profond.callbacks import CallbackList, History, ProgressBar
from profond.callbacks.divergence import attach_guard
from profond.layers.base import Layer, losses_were_added
from profond.models.compile_utils import CompiledLoss, CompiledMetrics, check_metrics
from profond.ops.conv import SPARES
from profond.training import data_adapter
from profond.training.data_adapter import batch_length
from profond.training.structure import flatten, map_structure, unflatten

__all__ = ["Model"]


def _tensorize(x):
    return map_structure(lambda a: a if isinstance(a, Tensor) else Tensor._make(a), x)


def _functional_class():
    """``Functional``, found through the registry (it subclasses Model: importing its module
    here would make a circle); the package registers it when it is imported, before this."""
    from profond import saving

    return saving.builtin_objects("keras.src.models.functional")["Functional"]


# --- fit's argument checks (the rest are in the data adapter and the kinds' get)

def _check_fit_arguments(verbose, shuffle, callbacks, validation_freq, validation_batch_size,
                         validation_steps):
    """``(verbose, callbacks)`` checked and normalised: fit refuses a wrong value before any
    work starts. As in Keras 3, one Callback alone is taken for a list of one."""
    from profond._validation import check_choice

    check_choice(verbose, "verbose", "fit", ["auto", 0, 1, 2])
    if not (isinstance(shuffle, bool) or getattr(shuffle, "dtype", None) == bool
            and getattr(shuffle, "shape", None) == ()):
        raise ValueError(f"The 'shuffle' parameter of fit must be a bool. Got {shuffle!r} "
                         "instead.")
    check_int(validation_freq, "validation_freq", "fit", low=1)
    check_int(validation_batch_size, "validation_batch_size", "fit", low=1, allow_none=True)
    check_int(validation_steps, "validation_steps", "fit", low=1, allow_none=True)
    from profond.callbacks import Callback

    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    if callbacks is not None and not (isinstance(callbacks, (list, tuple)) and all(
            isinstance(cb, Callback) for cb in callbacks)):
        raise ValueError("The 'callbacks' parameter of fit must be a list of Callback objects "
                         f"(or one Callback). Got {callbacks!r} instead.")
    return (1 if verbose == "auto" else int(verbose)), list(callbacks or [])


class Model(Layer):
    """A trainable stack of layers with Keras's ``compile``/``fit``/``evaluate``/``predict``.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import layers
    >>> class TwoLayers(profond.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = layers.Dense(8, activation="relu")
    ...         self.out = layers.Dense(1)
    ...     def call(self, x):
    ...         return self.out(self.hidden(x))
    >>> model = TwoLayers()
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x = np.random.default_rng(0).normal(size=(64, 3))
    >>> history = model.fit(x, x.sum(axis=1), epochs=2, verbose=0)
    >>> sorted(history.history)
    ['loss']
    """

    _autocast = False  # each layer casts its inputs to its own dtype (Keras's Functional)

    def __new__(cls, *args, **kwargs):
        # Model(inputs, outputs) is Keras's functional model: an instance of Functional.
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            functional = _functional_class()
            return functional.__new__(functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError(f"{type(self).__name__}.__init__ got inputs and outputs: a "
                            "functional model is Model(inputs, outputs) itself, or a subclass "
                            "of profond.models.Functional; a subclass of Model writes call().")
        super().__init__(**kwargs)
        self.optimizer = None
        self.compiled_loss = None
        self.compiled_metrics = None
        self.stop_training = False
        self.history = None
        self._compile_config = None
        # fit's callbacks that watch each batch's gradients (None: no one does, and the step
        # pays nothing), and the index in its epoch of the batch being trained on.
        self._gradient_callbacks = None
        self._train_batch = 0
        # This rank's side of a data-parallel fit (None: training in this process alone).
        self._replica = None

    # --- compile ---------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                **kwargs):
        """Configure training.

        Parameters
        ----------
        optimizer : str or Optimizer, default "rmsprop"
        loss : str, Loss, callable, or a list/dict of them (one per output)
        loss_weights : float, list or dict, optional
            Factors of each output's loss; for a single output, an array of one weight per
            output column favours some columns over others.
        metrics : list, optional
            Names (``"accuracy"``, ``"mae"`` ...), Metric objects or functions; a dict maps
            output names to lists. They ignore sample and class weights (as in Keras).
        weighted_metrics : list or dict, optional (keyword)
            Metrics that apply sample and class weights.
        """
        unknown = set(kwargs) - {"run_eagerly", "jit_compile", "steps_per_execution",
                                 "weighted_metrics", "auto_scale_loss"}
        if unknown:
            raise TypeError(f"compile() got unexpected keyword argument(s) {sorted(unknown)}.")
        if loss is None:
            raise ValueError("compile() needs a loss, e.g. loss='mse' or "
                             "loss='sparse_categorical_crossentropy'.")
        check_metrics(metrics, "metrics")
        check_metrics(kwargs.get("weighted_metrics"), "weighted_metrics")
        self.optimizer = optimizers_mod.get(optimizer)
        self.compiled_loss = CompiledLoss(loss, loss_weights,
                                          output_names=getattr(self, "output_names", None))
        self.compiled_metrics = CompiledMetrics(metrics, self.compiled_loss,
                                                kwargs.get("weighted_metrics"))
        self._compile_config = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics}

    def _check_compiled(self, what):
        if self.compiled_loss is None:
            raise RuntimeError(f"You must compile the model before {what}: call "
                               "model.compile(optimizer=..., loss=...).")

    @property
    def metrics_names(self) -> list:
        return ["loss"] + list(self.compiled_metrics.results()) if self.compiled_metrics else []

    # --- one step ----------------------------------------------------------------------------
    def _cache_step_state(self):
        """What every training step needs, gathered once per ``fit`` instead of per batch."""
        self._trainable_cache = self.trainable_weights
        self._penalty_cache = [v for v in self._trainable_cache if v.regularizer is not None]
        self._has_activity_losses = any(layer.activity_regularizer is not None
                                        for layer in self.flatten_layers())

    def _regularization_penalty(self):
        if not hasattr(self, "_penalty_cache"):
            self._cache_step_state()
        penalties = [v.regularizer(v) for v in self._penalty_cache]
        if self._has_activity_losses or losses_were_added():
            penalties.extend(self._collect_activity_losses())
        if not penalties:
            return None
        total = penalties[0]
        for p in penalties[1:]:
            total = total + p
        return total

    def train_step(self, x, y, sample_weight=None):
        """One optimisation step on a batch; returns the loss tensor (graph already used)."""
        if self._has_activity_losses or losses_were_added():
            self._clear_activity_losses()
        y_pred = self(_tensorize(x), training=True)
        loss, _ = self.compiled_loss(y, y_pred, sample_weight)
        penalty = self._regularization_penalty()
        if penalty is not None:
            loss = loss + penalty
        variables = self._trainable_cache
        for v in variables:
            v.grad = None
        replica = self._replica
        # Data-parallel: this rank's share of the global batch weighs its gradients, which
        # are then summed over the ranks.
        loss.backward(None if replica is None else replica.loss_seed)
        grads = [v.grad for v in variables]
        for v in variables:  # the optimizer gets the arrays; the variables keep no reference
            v.grad = None
        if replica is not None:
            grads = replica.sum_gradients(grads)
        if self._gradient_callbacks is not None:
            self._gradient_callbacks.on_train_batch_gradients(self._train_batch, grads,
                                                              variables)
        self.optimizer.apply(grads, variables)
        return loss, y_pred

    def test_step(self, x, y, sample_weight=None):
        """Loss (with regularization penalties, as in training) and predictions on a batch."""
        if not hasattr(self, "_penalty_cache"):
            self._cache_step_state()
        if self._has_activity_losses or losses_were_added():
            self._clear_activity_losses()
        y_pred = self(_tensorize(x), training=False)
        loss, _ = self.compiled_loss(y, y_pred, sample_weight)
        penalty = self._regularization_penalty()
        if penalty is not None:
            loss = loss + penalty
        return loss, y_pred

    # --- fit -----------------------------------------------------------------------------------
    def _ensure_built(self, x_batch):
        if not self.built:
            with no_grad():
                self(_tensorize(x_batch), training=False)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_batch_size=None,
            validation_freq=1, divergence_guard=None, validation_steps=None):
        """Train the model for a number of epochs.

        Parameters
        ----------
        x : array-like, list/dict of arrays, or a source of batches
            Arrays of shape (n_samples, ...) (memmaps stream, batch by batch), one per input of
            a several-input model; or a generator, iterable or sequence (``__len__`` and
            ``__getitem__``) yielding ``(x, y)`` or ``(x, y, sample_weight)`` batches, with
            ``y`` and ``sample_weight`` left out.
        y : array-like or list/dict of arrays
            Targets; one per output (a dict by output name, a list by position).
        batch_size : int, default 32
            Samples per gradient update (the weights change once per batch).
        epochs : int, default 1
            Index of the last epoch (training runs from ``initial_epoch`` to ``epochs``). As in
            Keras, ``epochs <= initial_epoch`` (``epochs=0``) trains nothing: the weights stay
            as they are and the history is empty (``history.history == {}``).
        verbose : "auto", 0, 1 or 2
            0 silent, 1 progress bar, 2 one line per epoch ("auto" is 1).
        callbacks : list of Callback, optional
            One Callback alone is taken for a list of one (as in Keras 3).
        validation_split : float in [0, 1)
            Fraction of the data, taken from the end before shuffling, held out for validation.
        validation_data : tuple or source of batches, optional
            ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)``, or a generator /
            iterable of such batches (``validation_steps`` of them per evaluation).
        shuffle : bool, default True
            Reshuffle the training data at each epoch (profond's seeded generator).
        class_weight : dict or "balanced", optional
            ``{class_index: weight}`` multiplying the loss of each target by its class's
            weight, for targets of any rank (sparse, one-hot, per time step); ``"balanced"``
            weighs classes inversely to their frequency. For several outputs,
            ``{output_name: {class_index: weight} or "balanced"}``. Multiplies
            ``sample_weight`` when both are given.
        sample_weight : array-like, shape (n_samples,) or (n_samples, n_steps), optional
            Per output as a dict or list for several outputs.
        steps_per_epoch : int, optional
            Batches per epoch. From a source of batches: None runs until it runs out (a
            generator that runs out ends training). With arrays: None is one pass over the
            data; a number makes each epoch that many batches of a continuing stream of
            shuffled passes (the next epoch resumes where the last one stopped).
        validation_steps : int, optional
            Batches per evaluation drawn from a source of validation batches.
        initial_epoch : int, default 0
            Epoch at which to start (to resume a run: see
            :func:`profond.callbacks.load_checkpoint`).
        divergence_guard : bool, dict or DivergenceGuard, optional
            ``True`` first trains a probe on a small part of the data, re-creates the model
            (new seed, lower learning rate) until a probe learns (its loss falls at every probe
            epoch), and during the run rolls a diverged epoch back to the last good weights
            with a lower learning rate; a dict gives
            :class:`~profond.callbacks.DivergenceGuard` arguments.

        Returns
        -------
        History
            ``history.history`` maps ``"loss"``, metrics and ``"val_..."`` to per-epoch lists.
        """
        self._check_compiled("training it")
        epochs = check_int(epochs, "epochs", "fit", low=0)
        initial_epoch = check_int(initial_epoch, "initial_epoch", "fit", low=0)
        verbose, cbs = _check_fit_arguments(verbose, shuffle, callbacks, validation_freq,
                                            validation_batch_size, validation_steps)
        data = data_adapter.fit_data(
            x, y, sample_weight, class_weight, batch_size, shuffle, steps_per_epoch,
            validation_split, validation_data, validation_batch_size, validation_steps,
            loss=self.compiled_loss.spec)
        self.optimizer.steps_per_epoch = data.steps  # lets unit="epoch" schedules count epochs
        history = History()
        guard = attach_guard(divergence_guard, cbs)
        if verbose:
            cbs.append(ProgressBar(verbose=verbose))
        cbs.append(history)
        params = {"epochs": epochs, "initial_epoch": initial_epoch, "steps": data.steps,
                  "verbose": verbose, "batch_size": data.batch_size, "samples": data.samples}
        callback_list = CallbackList(cbs, model=self, params=params)
        self.history = history
        self.stop_training = False

        self._ensure_built(data.batches.first()[0])
        self._cache_step_state()
        self.optimizer.build(self._trainable_cache)
        watch_gradients = callback_list.has("on_train_batch_gradients")
        self._gradient_callbacks = callback_list if watch_gradients else None
        self._train_batch = 0
        strategy = distribution_mod.distribution()
        replica = None if strategy is None else strategy.replica(self)
        try:
            callback_list.on_train_begin()
            if replica is not None:  # after a checkpoint's restore: rank 0's state everywhere
                replica.start(self._trainable_cache)
                self._replica = replica
            if callback_list.start_epoch is not None:  # a checkpoint's run, resumed
                initial_epoch = callback_list.start_epoch
            if guard is not None and initial_epoch == 0 < epochs and not data.from_source:
                guard.probe(data.arrays, data.batch_size)
            logs = self._run_epochs(callback_list, data, initial_epoch, epochs, validation_freq)
        finally:
            self._gradient_callbacks = None
            self._replica = None
        callback_list.on_train_end(logs)
        SPARES.clear()  # the ops' kept per-step arrays (tens of MB for a CNN): training is over
        return history

    def _run_epochs(self, callback_list, data, initial_epoch, epochs, validation_freq):
        """fit's loop: the epochs, each its batches, then validation; returns the last logs."""
        replica = self._replica
        batches = data.batches if replica is None else replica.shard(data.batches)
        validation = data.validation if replica is None else \
            replica.shard(data.validation, training=False)
        batch_hooks = callback_list.has("on_train_batch_end") or \
            callback_list.has("on_train_batch_begin")
        watch_gradients = self._gradient_callbacks is not None
        logs = {}
        for epoch in range(initial_epoch, epochs):
            self.compiled_metrics.reset()
            callback_list.on_epoch_begin(epoch)
            loss_sum = 0.0
            seen = 0
            train_step, update_metrics = self.train_step, self.compiled_metrics.update
            if replica is not None:
                train_step = replica.wrap_step(train_step)
            for step, (xb, yb, swb) in enumerate(batches):
                if batch_hooks:
                    callback_list.on_train_batch_begin(step)
                if watch_gradients:
                    self._train_batch = step
                loss, y_pred = train_step(xb, yb, swb)
                n = batch_length(xb)
                loss_sum += float(loss.data) * n
                seen += n
                update_metrics(yb, y_pred, swb)
                if batch_hooks:
                    logs = self._epoch_logs(loss_sum, seen)
                    callback_list.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            logs = self._epoch_logs(loss_sum, seen)
            if validation is not None and \
                    (epoch + 1 - initial_epoch) % validation_freq == 0:
                # As Keras, validation is an evaluation: the test hooks of fit's callbacks run.
                callback_list.on_test_begin()
                val = self._evaluate_batches(validation, callback_list)
                callback_list.on_test_end(val)
                logs.update({f"val_{k}": v for k, v in val.items()})
            callback_list.on_epoch_end(epoch, logs)
            if data.from_source and batches.exhausted and epoch + 1 < epochs:
                warnings.warn(f"fit: the batch generator ran out during epoch {epoch + 1} of "
                              f"{epochs}; training stops. Give steps_per_epoch (and a generator "
                              "that loops over the data) to train for several epochs.",
                              UserWarning, stacklevel=3)  # fit's caller
                self.stop_training = True
            if self.stop_training:
                break
        return logs

    def _epoch_logs(self, loss_sum, seen) -> dict:
        """The mean loss and the metrics so far (over every rank in data-parallel fit)."""
        logs = {"loss": loss_sum / max(seen, 1), **self.compiled_metrics.results()}
        return logs if self._replica is None else self._replica.reduce_logs(logs, seen)

    # --- evaluate / predict --------------------------------------------------------------------
    def _evaluate_batches(self, batches, callback_list=None):
        """Loss and metrics over ``batches`` (ArrayBatches or GeneratorBatches), no graph."""
        SPARES.clear()  # training's kept arrays go before the evaluation's: a lower peak
        self.compiled_metrics.reset()
        loss_sum = 0.0
        seen = 0
        batch_logs = callback_list is not None and callback_list.has("on_test_batch_end")
        with no_grad():
            for step, (xb, yb, swb) in enumerate(batches):
                if callback_list is not None:
                    callback_list.on_test_batch_begin(step)
                loss, y_pred = self.test_step(xb, yb, swb)
                n = batch_length(xb)
                loss_sum += float(loss.data) * n
                seen += n
                self.compiled_metrics.update(yb, y_pred, swb)
                if batch_logs:  # the running loss and metrics, as Keras's batch logs
                    callback_list.on_test_batch_end(
                        step, {"loss": loss_sum / seen, **self.compiled_metrics.results()})
        return self._epoch_logs(loss_sum, seen)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics on ``(x, y)``, computed in batches without building a graph.

        ``x`` may also be a source of ``(x, y)`` / ``(x, y, sample_weight)`` batches (generator,
        iterable or sequence, as for ``fit``), read for ``steps`` batches (None: until it runs
        out). ``verbose`` ("auto" or 1, 2: print one line with the results, to stderr as fit's
        progress; 0: silent) follows Keras's default.

        Returns
        -------
        float, list or dict
            The loss alone when there are no metrics, else ``[loss, *metrics]``; a dict with
            ``return_dict=True``.
        """
        self._check_compiled("evaluating it")
        batches = data_adapter.evaluate_data(x, y, sample_weight, batch_size, steps)
        callbacks = list(callbacks or [])
        verbose = 1 if verbose == "auto" else int(verbose)
        if verbose:  # Keras's default: the evaluation's progress line (here on stderr)
            callbacks.append(ProgressBar(verbose=verbose))
        callback_list = CallbackList(callbacks, model=self, params={})
        callback_list.on_test_begin()
        results = self._evaluate_batches(batches, callback_list)
        callback_list.on_test_end(results)
        if return_dict:
            return results
        values = list(results.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for ``x`` as NumPy arrays, computed in batches without building a graph.

        ``x`` may also be a source of batches (generator, iterable or sequence) yielding ``x``
        or ``(x, ...)`` tuples, read for ``steps`` batches (None: until it runs out).
        """
        batches = data_adapter.predict_data(x, batch_size, steps)
        SPARES.clear()  # training's kept arrays go before predict's own: a lower peak
        callback_list = CallbackList(callbacks or [], model=self, params={})
        callback_list.on_predict_begin()
        outputs = []
        with no_grad():
            for step, (xb, *_) in enumerate(batches):
                callback_list.on_predict_batch_begin(step)
                out = self(_tensorize(xb), training=False)
                outputs.append(out)
                callback_list.on_predict_batch_end(step, {"outputs": out})
        callback_list.on_predict_end()
        merged = [backend.to_numpy(backend.get_array_module(parts[0]).concatenate(parts))
                  for parts in zip(*([t.data for t in flatten(o)] for o in outputs))]
        return unflatten(outputs[0], merged)

    def predict_on_batch(self, x):
        """Outputs for one batch ``x`` as NumPy arrays."""
        xb, _, _ = data_adapter.single_batch(x)
        with no_grad():
            return map_structure(lambda t: t.numpy(), self(_tensorize(xb), training=False))

    def train_on_batch(self, x, y, sample_weight=None):
        """One update on one batch; returns the loss."""
        self._check_compiled("training it")
        xb, yb, swb = data_adapter.single_batch(x, y, sample_weight)
        self._ensure_built(xb)
        self._cache_step_state()
        loss, _ = self.train_step(xb, yb, swb)
        return float(loss.data)

    def test_on_batch(self, x, y, sample_weight=None):
        """The loss on one batch, without building a graph."""
        self._check_compiled("evaluating it")
        xb, yb, swb = data_adapter.single_batch(x, y, sample_weight)
        with no_grad():
            loss, _ = self.test_step(xb, yb, swb)
        return float(loss.data)

    # --- inspection ----------------------------------------------------------------------------
    def get_layer(self, name=None, index=None):
        """The layer named ``name``, or at position ``index`` of :attr:`layers`.

        Raises
        ------
        ValueError
            Both or neither given, no layer of that name, or an index out of range.

        Examples
        --------
        >>> from profond import Sequential, layers
        >>> model = Sequential([layers.Input((3,)), layers.Dense(2, name="hidden"),
        ...                     layers.Dense(1, name="out")])
        >>> model.get_layer("out").units, model.get_layer(index=0).name
        (1, 'hidden')
        """
        found = self.layers
        if (name is None) == (index is None):
            raise ValueError("The 'name' and 'index' parameters of get_layer must be given one "
                             f"at a time. Got name={name!r} and index={index!r} instead.")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int) or \
                    not -len(found) <= index < len(found):
                raise ValueError(f"The 'index' parameter of get_layer must be an int in "
                                 f"[{-len(found)}, {len(found)}) (model '{self.name}' has "
                                 f"{len(found)} layers). Got {index!r} instead.")
            return found[index]
        for layer in found:
            if layer.name == name:
                return layer
        raise ValueError(f"The 'name' parameter of get_layer must name a layer of model "
                         f"'{self.name}' ({[layer.name for layer in found]}). Got {name!r} "
                         "instead.")

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Re-create a model from its config; a functional config (Keras's ``"layers"``,
        ``"input_layers"``, ``"output_layers"``) gives a functional model."""
        if cls is Model and "input_layers" in config and "output_layers" in config:
            return _functional_class().from_config(config, custom_objects)
        return cls(**config)

    def build(self, input_shape):
        """Create the weights by running the model once on zeros of ``input_shape``."""
        if self.built:
            return
        def zeros(shape):  # one shape, or a dict/list of shapes for several inputs
            if isinstance(shape, dict):
                return {k: zeros(v) for k, v in shape.items()}
            if shape and all(d is None or isinstance(d, int) for d in shape):
                return Tensor(backend.xp().zeros(tuple(1 if d is None else d for d in shape),
                                                 dtype=backend.floatx()))
            return type(shape)(zeros(s) for s in shape)

        probe = zeros(input_shape)
        self.built = True  # before the call below: the sub-layers build themselves in it
        with no_grad():
            self(probe, training=False)

    def summary(self, print_fn=print, line_length=78):
        """Print the layers, their output shapes and parameter counts."""
        from profond.models.summary import format_summary

        print_fn(format_summary(self, line_length))

    # --- model and weights files ---------------------------------------------------------------
    def save(self, filepath, overwrite=True) -> None:
        """Write the whole model to one ``.safetensors`` file, atomically: architecture and
        compile settings (JSON), weights and optimizer state. ``profond.load_model(path)``
        reads it back (see :mod:`profond.io.model_file`)."""
        from profond.io.model_file import save_model

        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath) -> None:
        """Write the weights to a ``.safetensors`` file (atomically; no pickle)."""
        from profond.io.weights_file import save_weights

        save_weights(self, filepath)

    def load_weights(self, filepath) -> None:
        """Load weights written by :meth:`save_weights` (names and shapes are checked)."""
        from profond.io.weights_file import load_weights

        load_weights(self, filepath)

    def export(self, filepath, format="onnx") -> None:
        """Write the model for serving outside profond, as Keras 3's ``model.export``.

        Parameters
        ----------
        filepath : str or path-like
            The file to write (``.onnx``).
        format : {"onnx"}, default "onnx"
            ONNX, opset 17, dynamic batch (see :mod:`profond.io.onnx`); needs the ``onnx``
            package (``pip install 'profond[onnx]'``).
        """
        if format != "onnx":
            raise ValueError(f"The 'format' parameter of export must be 'onnx'. Got "
                             f"{format!r} instead.")
        from profond.io.onnx import export_onnx

        export_onnx(self, filepath)

    def get_compile_config(self):
        return self._compile_config
