"""Keras 3's ``config.json`` dicts to profond's, and back: only what differs is translated.

Both libraries write the same serialization dicts (:mod:`profond.saving` reads Keras's), with a
few differences handled here:

* Keras writes a layer's ``dtype`` as a ``DTypePolicy`` dict; profond takes the policy's name;
* Keras names some classes by their private module (an optimizer of the PyTorch backend is
  ``keras.src.backend.torch.optimizers.torch_adam``); they are looked up by their public one;
* Keras configs carry arguments profond does not have (``quantization_config``, ``use_ema``,
  an initializer's ``input_axes`` ...): they are dropped when they hold the value that does
  nothing (None, False ...), and refused with the layer's name otherwise;
* profond's schedules carry a ``unit`` (``"step"`` or ``"epoch"``) that Keras's lack: a
  per-step schedule is written without it, a per-epoch one has no Keras form.

Nothing here imports a module named in a file: a ``"module"`` outside Keras and profond is
refused unless its ``registered_name`` is registered in this program, and classes are only
looked up in profond's registry.
"""

from __future__ import annotations

import inspect

from profond import saving

__all__ = ["KerasFileError", "to_profond", "to_keras", "policy_name"]


class KerasFileError(ValueError):
    """A Keras file that profond cannot read: damaged, foreign, or naming what profond lacks."""


# Keras's private modules -> the public one whose table holds the class (checked in order).
_PUBLIC_MODULES = [(".optimizers.schedules", "keras.optimizers.schedules"),
                   (".optimizers", "keras.optimizers"), (".layers", "keras.layers"),
                   (".losses", "keras.losses"), (".metrics", "keras.metrics"),
                   (".initializers", "keras.initializers"),
                   (".regularizers", "keras.regularizers"),
                   (".constraints", "keras.constraints"), (".activations", "keras.activations"),
                   (".models.sequential", "keras"), (".models.model", "keras")]
# Keras arguments profond lacks that are harmless at these values (besides None and False).
_INERT = {"ema_momentum": lambda config: not config.get("use_ema"),
          "renorm_momentum": lambda config: not config.get("renorm"),
          # a loss reducing over the last axis, as profond's do
          "axis": lambda config: config.get("axis") == -1,
          "dtype": lambda config: config.get("dtype") == "float32"}
# Arguments of profond's config that Keras's class of the same name does not take, with the
# value at which leaving them out changes nothing (Keras's SpatialDropout takes no trainable).
_KERAS_LACKS = {"SpatialDropout1D": {"trainable": True}, "SpatialDropout2D": {"trainable": True},
                "SparseCategoricalCrossentropy": {"axis": -1, "label_smoothing": 0.0}}
# What profond has and Keras 3 lacks: a file naming them would not load in Keras.
_PROFOND_ONLY = {"keras.activations": {"step", "step_ste"},
                 "keras.optimizers.schedules": {"StepDecay"}}
_ACTIVATION_KEYS = ("activation", "recurrent_activation")
# What a model's from_config takes besides its constructor's arguments.
_MODEL_KEYS = ("layers", "input_layers", "output_layers", "build_input_shape")


def policy_name(value):
    """The dtype name of a Keras ``DTypePolicy`` dict (a name, or None, is kept as it is).

    Examples
    --------
    >>> policy_name({"module": "keras", "class_name": "DTypePolicy",
    ...              "config": {"name": "float32"}, "registered_name": None})
    'float32'
    >>> policy_name("float64")
    'float64'
    """
    if isinstance(value, dict) and value.get("class_name") in ("DTypePolicy", "FloatDTypePolicy"):
        inner = value.get("config")
        if isinstance(inner, dict) and isinstance(inner.get("name"), str):
            return inner["name"]
    return value


def _trusted_module(module) -> bool:
    return module is None or module in ("keras", "profond") or \
        module.startswith(("keras.", "profond."))


def _public_module(module):
    if module is None or not module.startswith("keras.src."):
        return module
    for part, public in _PUBLIC_MODULES:
        if part in module[len("keras.src"):]:
            return public
    return module


def _accepted_arguments(cls) -> set:
    """The keyword arguments ``cls(...)`` takes: its constructor's, and, where it passes
    ``**kwargs`` on, those of the next constructor up its bases."""
    names = set()
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        if klass is object:
            break
        try:
            params = list(inspect.signature(init).parameters.values())
        except (TypeError, ValueError):
            break
        names.update(p.name for p in params
                     if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self")
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def _owner(spec, within=None):
    """``"the layer 'dense' (Dense, module 'keras.layers')"``, or, for an object a layer
    holds, ``"the function 'gelu' (module ...), in the layer 'dense',"``."""
    inner = spec.get("config")
    module = spec.get("module")
    if spec.get("class_name") == "function" and isinstance(inner, str):
        what = f"the function {inner!r} (module {module!r})"
    elif isinstance(inner, dict) and isinstance(inner.get("name"), str) and "trainable" in inner:
        return f"the layer '{inner['name']}' ({spec.get('class_name')}, module {module!r})"
    else:
        what = f"the {spec.get('class_name')} (module {module!r})"
    return f"{what}, in {within}," if within else what


def to_profond(spec, filepath, within=None):
    """``spec`` (a dict of a Keras ``config.json``) with Keras's forms translated to profond's.

    ``within`` names the layer being translated, for messages about what it holds.

    Raises
    ------
    KerasFileError
        A class outside Keras and profond, a Keras class profond lacks (named with the layer),
        a lambda, or an argument profond does not have, at a value that does something.
    """
    if isinstance(spec, list):
        return [to_profond(v, filepath, within) for v in spec]
    if not isinstance(spec, dict):
        return spec
    if not isinstance(spec.get("class_name"), str):
        return {k: to_profond(v, filepath, within) for k, v in spec.items()}
    if spec["class_name"] in ("__numpy__", "__keras_tensor__"):
        return spec
    if spec["class_name"] == "__lambda__" or spec["class_name"] == "Lambda":
        raise KerasFileError(f"{filepath!r}: {_owner(spec, within)} holds Python code (a "
                             "lambda); profond never runs code from a file. Rebuild that part in "
                             "profond and load the weights alone.")
    named = policy_name(spec)
    if named is not spec:
        return named
    module = spec.get("module")
    if module is not None and not isinstance(module, str):
        raise KerasFileError(f"{filepath!r}: {_owner(spec, within)} has a 'module' that is not "
                             "a string.")
    out = {k: v for k, v in spec.items() if k != "shared_object_id"}
    out["module"] = _public_module(module)
    if not _trusted_module(module):
        registered = spec.get("registered_name")
        known = isinstance(registered, str) and _registered(out)
        if not known:
            raise KerasFileError(
                f"{filepath!r}: {_owner(spec, within)} comes from outside Keras and profond, "
                f"and no class is registered as {registered!r}. profond never imports a module "
                "named in a file; register the class with "
                "@profond.saving.register_keras_serializable() before loading.")
    try:
        cls = saving.retrieve_class_or_fn(out)
    except ValueError:
        raise KerasFileError(f"{filepath!r}: {_owner(spec, within)} is not something "
                             f"profond has (no {spec['class_name']} among its built-in and "
                             "registered classes and functions).") from None
    inner = spec.get("config")
    if isinstance(inner, dict):
        if "trainable" in inner and isinstance(inner.get("name"), str):
            within = f"the layer '{inner['name']}'"
        inner = {k: to_profond(v, filepath, within) for k, v in inner.items()}
        if isinstance(cls, type):
            inner = _without_keras_extras(inner, cls, spec, filepath, within)
        out["config"] = inner
    return out


def _registered(spec) -> bool:
    try:
        saving.retrieve_class_or_fn(spec)
    except ValueError:
        return False
    return True


def _without_keras_extras(config, cls, spec, filepath, within):
    accepted = _accepted_arguments(cls)
    if "layers" in config:
        accepted |= set(_MODEL_KEYS)
    if not accepted:
        return config
    kept = {}
    for key, value in config.items():
        if key in accepted:
            kept[key] = value
        elif value is None or value is False or value == [] or value == {} or \
                (key in _INERT and _INERT[key](config)):
            continue
        else:
            raise KerasFileError(f"{filepath!r}: {_owner(spec, within)} sets {key}={value!r}, "
                                 f"which profond's {cls.__name__} does not have.")
    return kept


def to_keras(spec, owner="the model"):
    """``spec`` (profond's serialized dict) in the form Keras 3 reads.

    Raises
    ------
    ValueError
        A per-epoch learning-rate schedule (Keras's schedules count steps only).
    """
    if isinstance(spec, list):
        return [to_keras(v, owner) for v in spec]
    if not isinstance(spec, dict):
        return spec
    inner = spec.get("config")
    if isinstance(spec.get("class_name"), str) and isinstance(inner, dict) and \
            isinstance(inner.get("name"), str) and "trainable" in inner:
        owner = f"layer '{inner['name']}'"
    out = {k: to_keras(v, owner) for k, v in spec.items()}
    _refuse_profond_only(out, owner)
    inner = out.get("config")
    if isinstance(out.get("class_name"), str) and isinstance(inner, dict):
        for key, neutral in _KERAS_LACKS.get(out["class_name"], {}).items():
            if inner.get(key, neutral) != neutral:
                raise ValueError(f"Cannot save {owner} as a Keras file: Keras's "
                                 f"{out['class_name']} has no {key} (it is {inner[key]!r}).")
            inner.pop(key, None)
        if out.get("module") == "keras.optimizers.schedules" and "unit" in inner:
            unit = inner.pop("unit")
            if unit != "step":
                raise ValueError(f"Cannot save {owner} as a Keras file: its learning-rate "
                                 f"schedule {out['class_name']} counts {unit}s, and Keras's "
                                 "schedules count steps. Use unit='step' (scale the schedule's "
                                 "steps by the steps per epoch) or save to .safetensors.")
    return out


def _refuse_profond_only(spec, owner):
    """Raise on what only profond has (an activation named ``"step"``, a ``StepDecay``)."""
    named = []
    if isinstance(spec.get("class_name"), str):
        name = spec.get("config") if spec["class_name"] == "function" else spec["class_name"]
        named.append((spec.get("module"), name))
    inner = spec.get("config")
    if isinstance(inner, dict):
        named.extend(("keras.activations", inner[k]) for k in _ACTIVATION_KEYS
                     if isinstance(inner.get(k), str))
    for module, name in named:
        if name in _PROFOND_ONLY.get(module, ()):
            raise ValueError(f"Cannot save {owner} as a Keras file: it uses {name!r}, which is "
                             "profond's own and which Keras does not have. Save it to "
                             "'.safetensors' instead.")
