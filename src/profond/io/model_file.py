"""Whole-model files: architecture, compile settings, weights and optimizer state in ONE file.

The file is a plain `safetensors <https://huggingface.co/docs/safetensors>`_ file:

* tensors ``"{i:04d}/{layer}/{weight}"`` are the weights in Keras's ``get_weights()`` order and
  layouts (the same keys as :func:`profond.io.weights.save_weights`, so ``load_weights`` reads
  a model file too, and any safetensors reader sees the weights);
* tensors ``"optimizer/{i:04d}/{slot}"`` are the optimizer's slots (momentum, moments ...), in
  the order of ``model.trainable_weights``;
* the header's string metadata holds JSON: ``"model"`` (``{"class_name", "config"}`` from
  ``get_config``), ``"compile"`` (loss, loss weights, metrics), ``"optimizer"`` (its config),
  ``"optimizer_state"`` (iterations, learning rate, slot names) and, for checkpoints,
  ``"training_state"`` (epoch, random generator states, history so far).

Loading never runs code from the file: no pickle, only JSON and raw tensors, and classes are
looked up by name among the registered layers, losses, activations, constraints and
optimizers. So ``save`` refuses, before writing anything, a model whose layers hold what a
loader could not look up (a plain function as initializer, regularizer, constraint or
activation, an unregistered subclass), naming the layer, the argument and the way out.
Every part of the file is read and checked before a model is returned, so a truncated,
corrupted or hostile file raises ``ValueError`` with the reason and never yields a
half-loaded model. Writing goes to a temporary file renamed over the target, so a kill
mid-write leaves the old file intact.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import struct

import numpy as np

from profond._files import atomic_path
from profond.io.weights import _safetensors_numpy, weights_to_dict

__all__ = ["save_model", "load_model", "read_metadata", "ModelFileError"]

FORMAT = "profond-model"
FORMAT_VERSION = 1
_MAX_HEADER = 100 * 1024 * 1024  # safetensors's own limit


class ModelFileError(ValueError):
    """A model file that cannot be read: truncated, corrupted, foreign or inconsistent."""


# --- header ------------------------------------------------------------------------------------
def _read_header(filepath) -> tuple[dict, dict]:
    """``(metadata, tensor_infos)`` from a safetensors header, without reading the tensors."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No model file at {filepath!r}.")
    size = os.path.getsize(filepath)
    with open(filepath, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise ModelFileError(f"{filepath!r} is not a profond model file: it is only {size} "
                                 "bytes long (truncated?).")
        (n,) = struct.unpack("<Q", head)
        if n > min(_MAX_HEADER, size - 8):
            raise ModelFileError(f"{filepath!r} is not a profond model file: its header claims "
                                 f"{n} bytes but the file has {size} (truncated or corrupted?).")
        raw = fh.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ModelFileError(f"{filepath!r} is not a profond model file: its header is not "
                             f"valid JSON ({type(err).__name__}).") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{filepath!r} is not a profond model file: malformed header.")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFileError(f"{filepath!r}: the header's metadata must map names to strings.")
    return metadata, header


def read_metadata(filepath) -> dict:
    """The JSON parts of a model file's metadata, decoded (only the header is read).

    Returns
    -------
    dict
        ``{"format": ..., "model": {...}, "compile": {...} or None, "optimizer": ...,
        "optimizer_state": ..., "training_state": ... or None}``.
    """
    metadata, _ = _read_header(filepath)
    fmt = metadata.get("format")
    if fmt != FORMAT:
        hint = " It holds weights only: use model.load_weights(path)." \
            if fmt == "profond-weights" else ""
        raise ModelFileError(f"{os.fspath(filepath)!r} is not a profond model file (format "
                             f"{fmt!r}).{hint}")
    try:
        version = int(metadata.get("format_version", "0"))
    except ValueError:
        version = -1
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{os.fspath(filepath)!r} has model-file format version "
                             f"{metadata.get('format_version')!r}; this profond reads version "
                             f"{FORMAT_VERSION}.")
    out = {"format": fmt}
    for key in ("model", "compile", "optimizer", "optimizer_state", "training_state"):
        text = metadata.get(key)
        if text is None:
            out[key] = None
            continue
        try:
            out[key] = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise ModelFileError(f"{os.fspath(filepath)!r}: the '{key}' metadata is not valid "
                                 f"JSON ({type(err).__name__}).") from None
    if not isinstance(out["model"], dict):
        raise ModelFileError(f"{os.fspath(filepath)!r} has no model architecture.")
    return out


# --- compile settings --------------------------------------------------------------------------
def _serialize_loss(loss):
    from profond import losses

    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, (list, tuple)):
        return [_serialize_loss(v) for v in loss]
    if isinstance(loss, dict) and "class_name" not in loss:
        return {k: _serialize_loss(v) for k, v in loss.items()}
    if isinstance(loss, dict):
        return loss
    if isinstance(loss, losses.Loss):
        config = losses.serialize(loss)
    else:
        name = next((n for n, f in getattr(losses, "_CUSTOM", {}).items() if f is loss), None)
        if name is None:
            raise ValueError(f"Cannot save the loss {loss!r}: register it by name with "
                             "profond.losses.register(name, fn) so a saved model can name it.")
        return name
    try:
        losses.get(config)
    except Exception:
        raise ValueError(f"Cannot save the loss {loss!r}: register it by name with "
                         f"profond.losses.register({config['class_name']!r}, ...) so a saved "
                         "model can name it.") from None
    return config


def _deserialize_loss(spec):
    from profond import losses

    if isinstance(spec, list):
        return [_deserialize_loss(v) for v in spec]
    if isinstance(spec, dict) and "class_name" in spec:
        return losses.get(spec)
    if isinstance(spec, dict):
        return {k: _deserialize_loss(v) for k, v in spec.items()}
    return spec


def _serialize_metric(metric):
    from profond import metrics

    if metric is None or isinstance(metric, str):
        return metric
    if isinstance(metric, (list, tuple)):
        return [_serialize_metric(m) for m in metric]
    if isinstance(metric, dict):
        return {k: _serialize_metric(v) for k, v in metric.items()}
    cls = type(metric)
    if isinstance(metric, metrics.Metric) and getattr(metrics, cls.__name__, None) is cls:
        return {"class_name": cls.__name__, "config": metric.get_config()}
    name = getattr(metric, "__name__", None)
    if name is not None:
        with contextlib.suppress(Exception):
            metrics.get(name)
            return name
    raise ValueError(f"Cannot save the metric {metric!r}: give it by name (e.g. 'accuracy', "
                     "'mae') or as a built-in Metric object.")


def _deserialize_metric(spec):
    from profond import metrics

    if isinstance(spec, list):
        return [_deserialize_metric(m) for m in spec]
    if isinstance(spec, dict) and "class_name" in spec:
        cls = getattr(metrics, str(spec["class_name"]), None)
        if not (isinstance(cls, type) and issubclass(cls, metrics.Metric)):
            raise ValueError(f"unknown metric class {spec['class_name']!r}")
        return cls(**dict(spec.get("config") or {}))
    if isinstance(spec, dict):
        return {k: _deserialize_metric(v) for k, v in spec.items()}
    return spec


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _compile_metadata(model) -> dict | None:
    config = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    if not config:
        return None
    from profond import optimizers

    opt = optimizers.serialize(model.optimizer)
    try:
        optimizers.get(json.loads(json.dumps(opt)))
    except Exception:
        raise ValueError(f"Cannot save the optimizer {model.optimizer!r}: its configuration "
                         "does not round-trip (a plain function as learning rate? Use a "
                         "profond.schedules schedule instead).") from None
    return {"compile": {"loss": _serialize_loss(config.get("loss")),
                        "loss_weights": _jsonable(config.get("loss_weights")),
                        "metrics": _serialize_metric(config.get("metrics"))},
            "optimizer": opt}


# --- save --------------------------------------------------------------------------------------
def _check_config_round_trips(model, spec):
    """A subclassed model must have a ``get_config`` whose output its ``__init__`` accepts."""
    import inspect

    from profond.layers import registry
    from profond.layers.base import Layer

    try:
        registry.get(spec["class_name"])
    except ValueError:
        raise ValueError(f"Cannot save model '{model.name}': its class "
                         f"{spec['class_name']!r} cannot be found by name. Register it with "
                         "@profond.layers.register.") from None
    cls = type(model)
    if cls.from_config.__func__ is not Layer.from_config.__func__:
        return  # the class rebuilds itself from its config its own way
    try:
        inspect.signature(cls).bind(**spec["config"])
    except TypeError:
        raise ValueError(f"Cannot save model '{model.name}': {cls.__name__}.__init__ does not "
                         f"accept its get_config() {sorted(spec['config'])}. Implement "
                         "get_config (and from_config) so the model can be rebuilt, or save "
                         "the weights alone with model.save_weights(path).") from None


# The layer arguments a model file holds by name, and how a loader finds them again:
# config-key suffix, module, what it is, the built-ins to suggest.
_NAMED_ARGUMENTS = (
    ("_initializer", "initializers", "initializer",
     "'glorot_uniform', 'he_normal', 'zeros', or an object such as RandomNormal(stddev=0.1)"),
    ("_regularizer", "regularizers", "regularizer",
     "'l1', 'l2', 'l1_l2', or an object such as L2(1e-4)"),
    ("_constraint", "constraints", "constraint",
     "'max_norm', 'non_neg', 'unit_norm', 'min_max_norm', or an object such as MaxNorm(3)"),
    ("activation", "activations", "activation", "'relu', 'tanh', 'sigmoid', 'softmax', ..."),
)


def _cannot_name(module, value) -> bool:
    """Whether a loader would fail to find ``value`` (a config entry) with ``module.get``."""
    if value is None or isinstance(value, (bool, int, float)):
        return False  # not a reference to look up (None, or a flag of a custom layer)
    if not isinstance(value, (str, dict)):
        return True  # a function or an object: JSON cannot hold it
    if isinstance(value, dict) and "class_name" not in value:
        return False
    try:
        module.get(value)
    except (ValueError, TypeError):  # unknown name, or a config its class does not take
        return True
    return False


def _check_named_arguments(spec, layer_name):
    """Refuse, before anything is written, a layer config that holds an initializer,
    regularizer, constraint or activation the loader could not find by name: a plain function,
    an unregistered subclass, an activation known only by its ``__name__``."""
    if isinstance(spec, list):
        for item in spec:
            _check_named_arguments(item, layer_name)
        return
    if not isinstance(spec, dict):
        return
    if isinstance(spec.get("config"), dict) and "class_name" in spec:
        layer_name = spec["config"].get("name", layer_name)
    for key, value in spec.items():
        for suffix, module_name, kind, builtins in _NAMED_ARGUMENTS:
            if not key.endswith(suffix):
                continue
            module = importlib.import_module(f"profond.{module_name}")
            if not _cannot_name(module, value):
                break
            shown = value["class_name"] if isinstance(value, dict) else repr(value)
            way = (f" or register yours under a name with profond.{module_name}.register("
                   "name, obj), before saving and before loading")
            raise ValueError(f"Cannot save layer '{layer_name}': its '{key}' is {shown}, which "
                             f"a model file cannot name. Use a built-in {kind} ({builtins})"
                             f"{way}; or save the weights alone with model.save_weights(path).")
        _check_named_arguments(value, layer_name)


def save_model(model, filepath, overwrite=True, training_state=None) -> None:
    """Write ``model`` (architecture, compile settings, weights, optimizer state) to one file.

    Parameters
    ----------
    model : Model
        A built model; a subclassed model needs ``get_config``/``from_config``.
    filepath : str or path-like
        Must end in ``.safetensors``.
    overwrite : bool, default True
        When False, refuse to replace an existing file.
    training_state : dict, optional
        JSON-friendly state stored beside the model (used by checkpoints).

    Raises
    ------
    ValueError
        Something the file cannot name (a layer's custom initializer, regularizer, constraint
        or activation, a custom loss or metric): nothing is written, and the message names the
        layer, the argument and what to do.

    Examples
    --------
    >>> import os, tempfile, profond
    >>> from profond import layers
    >>> model = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> model.save(path)
    >>> restored = profond.load_model(path)
    >>> all((a == b).all() for a, b in zip(model.get_weights(), restored.get_weights()))
    True
    """
    from profond.layers.registry import serialize

    st = _safetensors_numpy()
    filepath = os.fspath(filepath)
    if not filepath.endswith(".safetensors"):
        raise ValueError(f"The filepath for save must end in '.safetensors'. Got {filepath!r}.")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath!r} exists and overwrite=False.")
    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or train it first.")
    spec = serialize(model)
    _check_config_round_trips(model, spec)
    _check_named_arguments(spec, model.name)
    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION),
                "model": json.dumps(_jsonable(spec))}
    tensors = weights_to_dict(model)
    compiled = _compile_metadata(model) if getattr(model, "optimizer", None) is not None \
        else None
    if compiled is not None:
        metadata["compile"] = json.dumps(compiled["compile"])
        metadata["optimizer"] = json.dumps(_jsonable(compiled["optimizer"]))
        opt = model.optimizer
        index = {id(v): i for i, v in enumerate(model.trainable_weights)}
        state = opt.get_state()
        tracked = opt.variables if hasattr(opt, "variables") else opt._variables
        if any(id(v) not in index for v in tracked):
            raise ValueError("The optimizer holds state for variables that are not the "
                             "model's trainable weights; it cannot be saved with the model.")
        slots = [None] * len(index)
        for var, s in zip(tracked, state["slots"]):
            slots[index[id(var)]] = s
        names = []
        for i, s in enumerate(slots):
            names.append(sorted(s) if s is not None else None)
            for k, arr in (s or {}).items():
                tensors[f"optimizer/{i:04d}/{k}"] = np.ascontiguousarray(arr)
        metadata["optimizer_state"] = json.dumps({
            "iterations": int(state["iterations"]),
            "learning_rate": state.get("learning_rate"), "slots": names})
    if training_state is not None:
        metadata["training_state"] = json.dumps(_jsonable(training_state))
    with atomic_path(filepath) as tmp:
        st.save_file(tensors, tmp, metadata=metadata)


# --- load --------------------------------------------------------------------------------------
@contextlib.contextmanager
def private_global_rng():
    """Leave profond's global generator as it was: building a model draws initial weights,
    and loading one must not change the random stream of the program that loads it."""
    from profond import random as prandom

    gen = prandom.generator()
    saved = gen.bit_generator.state
    try:
        yield
    finally:
        prandom.generator().bit_generator.state = saved


def _fail(filepath, what):
    raise ModelFileError(f"{filepath!r} is not a valid profond model file: {what}")


def load_model(filepath, compile=True):
    """Re-create a model saved with ``model.save(path)``: architecture, weights, compile
    settings and optimizer state, ready to predict or to continue training.

    Parameters
    ----------
    filepath : str or path-like
    compile : bool, default True
        Compile the model as it was saved and restore the optimizer's state.

    Returns
    -------
    Model

    Raises
    ------
    FileNotFoundError
        No file at ``filepath``.
    ModelFileError
        (a ``ValueError``) The file is truncated, corrupted, not a profond model file, or names
        a layer, loss or activation that is not registered in this program.
    """
    from profond.layers.registry import deserialize
    from profond.optimizers import get as get_optimizer

    filepath = os.fspath(filepath)
    meta = read_metadata(filepath)
    st = _safetensors_numpy()
    try:
        tensors = st.load_file(filepath)
    except Exception as err:  # safetensors raises its own error types
        _fail(filepath, f"its tensors cannot be read (truncated or corrupted?): {err}")
    weight_keys = sorted(k for k in tensors if not k.startswith("optimizer/"))
    try:
        with private_global_rng():
            model = deserialize(meta["model"])
    except MemoryError:
        _fail(filepath, "its architecture asks for more memory than there is.")
    except Exception as err:
        _fail(filepath, f"its architecture cannot be rebuilt ({type(err).__name__}: {err}). "
              "Custom layers, losses and activations must be registered under the name they "
              "were saved with.")
    if not model.built:
        _fail(filepath, "the saved model was never built (no input shape in its config).")
    variables = model.weights
    if len(weight_keys) != len(variables):
        _fail(filepath, f"it holds {len(weight_keys)} weights; its architecture has "
              f"{len(variables)}.")
    for key, var in zip(weight_keys, variables):
        if tuple(tensors[key].shape) != tuple(var.shape):
            _fail(filepath, f"weight {key!r} has shape {tuple(tensors[key].shape)}; the "
                  f"architecture's '{var.path}' has shape {tuple(var.shape)}.")
        if tensors[key].dtype.kind not in "fc":
            _fail(filepath, f"weight {key!r} has dtype {tensors[key].dtype}.")
    for key, var in zip(weight_keys, variables):
        var.assign(tensors[key])
    if compile and meta.get("compile") is not None:
        try:
            _compile_from(model, meta, tensors, get_optimizer)
        except ModelFileError:
            raise
        except Exception as err:
            _fail(filepath, f"its compile settings or optimizer state cannot be restored "
                  f"({type(err).__name__}: {err}).")
    return model


def _compile_from(model, meta, tensors, get_optimizer):
    cfg = meta["compile"]
    if not isinstance(cfg, dict):
        raise ValueError("malformed compile settings")
    optimizer = get_optimizer(meta["optimizer"])
    model.compile(optimizer=optimizer, loss=_deserialize_loss(cfg.get("loss")),
                  loss_weights=cfg.get("loss_weights"),
                  metrics=_deserialize_metric(cfg.get("metrics")))
    state = meta.get("optimizer_state")
    if not state:
        return
    names = state["slots"]
    trainable = model.trainable_weights
    if not isinstance(names, list) or len(names) != len(trainable):
        raise ValueError(f"the optimizer state covers {len(names)} variables; the model has "
                         f"{len(trainable)} trainable weights")
    if all(n is None for n in names):
        return  # saved before the first update: nothing to restore
    if any(n is None for n in names):
        raise ValueError("the optimizer state covers only some variables")
    slots = []
    for i, keys in enumerate(names):
        slot = {}
        for k in keys:
            key = f"optimizer/{i:04d}/{k}"
            if key not in tensors:
                raise ValueError(f"missing optimizer tensor {key!r}")
            slot[k] = tensors[key]
        slots.append(slot)
    optimizer.set_state({"iterations": int(state["iterations"]),
                         "learning_rate": state.get("learning_rate"), "slots": slots},
                        trainable)
