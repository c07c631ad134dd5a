"""Training recipes: a TOML file that says what data, model, compilation and fit to use.

``profond train RECIPE.toml`` runs one; ``profond train`` alone runs the default recipe (an MLP
on scikit-learn's bundled digits, ``recipes/digits_mlp.toml``). Every key is checked before any
work starts, and an error names the offending key.

A recipe::

    name = "digits_mlp"
    seed = 0
    [data]
    dataset = "digits"          # or path = "train.csv" (target column: target = "label")
    val_size = 0.1
    test_size = 0.2
    stratify = true
    scaling = "standard"        # "standard" | "minmax" | "none" | a number to divide by
    [model]
    layers = [{ type = "Dense", units = 64, activation = "relu" },
              { type = "Dense", units = 10, activation = "softmax" }]
    [compile]
    optimizer = { type = "SGD", learning_rate = 0.05, momentum = 0.9 }   # or "adam"
    loss = "sparse_categorical_crossentropy"
    metrics = ["accuracy"]
    [fit]
    epochs = 30
    batch_size = 32
    callbacks = [{ type = "EarlyStopping", patience = 5 }]
"""

from __future__ import annotations

import difflib
import json
import os
import time
from importlib import resources

__all__ = ["RecipeError", "load_recipe", "parse_recipe", "default_recipe_path", "SCHEMA"]


class RecipeError(ValueError):
    """A recipe key is unknown, missing or of the wrong type."""


def _toml():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    return tomllib


_NUMBER = (int, float)

# section -> {key: (accepted types, required)}
SCHEMA = {
    "": {"name": (str, False), "seed": (int, False), "data": (dict, True),
         "model": (dict, True), "compile": (dict, True), "fit": (dict, False)},
    "data": {"dataset": (str, False), "path": (str, False), "target": ((str, int), False),
             "images": (bool, False), "val_size": (_NUMBER, False),
             "test_size": (_NUMBER, False), "stratify": (bool, False),
             "scaling": ((str, int, float), False), "one_hot": (bool, False),
             "window": (int, False), "horizon": (int, False)},
    "model": {"layers": (list, True)},
    "compile": {"optimizer": ((str, dict), False), "loss": ((str, dict), True),
                "metrics": (list, False), "loss_weights": ((int, float, list, dict), False)},
    "fit": {"epochs": (int, False), "batch_size": (int, False), "shuffle": (bool, False),
            "callbacks": (list, False), "class_weight": ((str, dict), False),
            "validation_freq": (int, False)},
}


def _type_names(types):
    types = types if isinstance(types, tuple) else (types,)
    names = {int: "integer", float: "number", str: "string", bool: "boolean", dict: "table",
             list: "array"}
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in types))


def _check_table(table, section, source):
    spec = SCHEMA[section]
    where = f"[{section}]" if section else "the top level"
    for key, value in table.items():
        if key not in spec:
            hint = difflib.get_close_matches(key, spec, n=1)
            raise RecipeError(f"{source}: unknown key '{key}' in {where}"
                              + (f" (did you mean '{hint[0]}'?)" if hint else "")
                              + f". Valid keys: {sorted(spec)}.")
        types, _ = spec[key]
        types = types if isinstance(types, tuple) else (types,)
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            names = _type_names(types)
            article = "an" if names[0] in "aeiou" else "a"
            raise RecipeError(f"{source}: key '{key}' in {where} must be {article} {names}."
                              f" Got {value!r} ({type(value).__name__}).")
    for key, (_, required) in spec.items():
        if required and key not in table:
            raise RecipeError(f"{source}: missing required key '{key}' in {where}.")


def _check_typed_list(items, key, source, resolve):
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "type" not in item:
            raise RecipeError(f"{source}: {key}[{i}] must be a table with a 'type' key, e.g. "
                              f"{{ type = \"Dense\", units = 64 }}. Got {item!r}.")
        try:
            resolve(item["type"])
        except ValueError as err:
            raise RecipeError(f"{source}: {key}[{i}].type: {err}") from None


def parse_recipe(recipe: dict, source: str = "recipe") -> dict:
    """Validate a recipe already read into a dict; return it with defaults filled in."""
    if not isinstance(recipe, dict):
        raise RecipeError(f"{source}: a recipe is a TOML table. Got {type(recipe).__name__}.")
    _check_table(recipe, "", source)
    for section in ("data", "model", "compile", "fit"):
        _check_table(recipe.get(section, {}), section, source)
    data = recipe["data"]
    if ("dataset" in data) == ("path" in data):
        raise RecipeError(f"{source}: [data] needs exactly one of 'dataset' (a bundled dataset) "
                          "or 'path' (a CSV or NPZ file).")
    for key in ("val_size", "test_size"):
        if key in data and not 0 <= data[key] < 1:
            raise RecipeError(f"{source}: key '{key}' in [data] must be in [0, 1). Got "
                              f"{data[key]!r}.")
    if "scaling" in data:
        _scaler(data["scaling"], source)
    if "dataset" in data:
        _check_dataset_name(data["dataset"], source)
    _check_series_keys(data, source)
    from profond import layers as registry

    _check_typed_list(recipe["model"]["layers"], "[model] layers", source, registry.get)
    if not recipe["model"]["layers"]:
        raise RecipeError(f"{source}: [model] layers is empty: give at least one layer.")
    for i, item in enumerate(recipe["model"]["layers"]):
        _check_arguments(registry.get(item["type"]), item, f"[model] layers[{i}]", source)
    callbacks = recipe.get("fit", {}).get("callbacks", [])
    _check_typed_list(callbacks, "[fit] callbacks", source, _callback_class)
    for i, item in enumerate(callbacks):
        _check_arguments(_callback_class(item["type"]), item, f"[fit] callbacks[{i}]", source)
    optimizer = recipe["compile"].get("optimizer")
    if isinstance(optimizer, (str, dict)):
        _optimizer(optimizer, source)
    for key in ("epochs", "batch_size", "validation_freq"):
        value = recipe.get("fit", {}).get(key)
        if value is not None and value < 1:
            raise RecipeError(f"{source}: key '{key}' in [fit] must be an integer >= 1. Got "
                              f"{value!r}.")
    if recipe.get("seed", 0) < 0:
        raise RecipeError(f"{source}: key 'seed' must be an integer >= 0. Got "
                          f"{recipe['seed']!r}.")
    out = dict(recipe)
    out.setdefault("name", os.path.splitext(os.path.basename(source))[0])
    out.setdefault("seed", 0)
    out.setdefault("fit", {})
    return out


def _check_arguments(cls, item, where, source):
    """Build ``cls(**arguments)`` once, so that a wrong argument name or value is reported at
    load time, naming its key (``[model] layers[1].units``)."""
    import inspect

    kwargs = {k: v for k, v in item.items() if k != "type"}
    params = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    named = [n for n, p in params.items() if n != "self" and p.kind in
             (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    for key in kwargs:
        if key not in named and not (takes_any and key in ("name", "trainable", "dtype",
                                                            "input_shape")):
            hint = difflib.get_close_matches(key, named, n=1)
            raise RecipeError(f"{source}: unknown key '{key}' in {where} ({cls.__name__})"
                              + (f" (did you mean '{hint[0]}'?)" if hint else "")
                              + f". {cls.__name__} takes: {named}.")
    try:
        cls(**kwargs)
    except (TypeError, ValueError) as err:
        key = f"{where}.{_culprit(kwargs, err)}" if _culprit(kwargs, err) else where
        raise RecipeError(f"{source}: {key} ({cls.__name__}): {err}") from None


def _culprit(kwargs, err):
    """The argument an error message is about: named in quotes, else whose value it quotes."""
    text = str(err)
    for key in kwargs:
        if f"'{key}'" in text:
            return key
    for key, value in kwargs.items():
        if isinstance(value, str) and repr(value) in text:
            return key
    return None


def _check_dataset_name(name, source):
    if name not in _BUNDLED:
        hint = difflib.get_close_matches(name, _BUNDLED, n=1)
        raise RecipeError(f"{source}: [data] dataset {name!r} is unknown"
                          + (f" (did you mean '{hint[0]}'?)" if hint else "")
                          + f". Bundled datasets: {list(_BUNDLED)}.")


def _callback_class(name):
    from profond import callbacks

    cls = getattr(callbacks, name, None)
    if not isinstance(cls, type):
        known = sorted(n for n in dir(callbacks) if isinstance(getattr(callbacks, n), type)
                       and n[0].isupper())
        raise ValueError(f"Unknown callback {name!r}. Known callbacks: {known}.")
    return cls


def default_recipe_path() -> str:
    """Path of the recipe that ``profond train`` runs with no argument."""
    return str(resources.files("profond") / "recipes" / "digits_mlp.toml")


def load_recipe(path=None) -> dict:
    """Read and validate a recipe file (the default recipe when ``path`` is None)."""
    path = os.fspath(path) if path is not None else default_recipe_path()
    if not os.path.exists(path):
        raise FileNotFoundError(f"No recipe file at {path!r}.")
    with open(path, "rb") as fh:
        try:
            recipe = _toml().load(fh)
        except Exception as err:  # tomllib.TOMLDecodeError
            raise RecipeError(f"{path}: not valid TOML: {err}") from None
    return parse_recipe(recipe, source=path)


# --- running a recipe -------------------------------------------------------------------------

_SERIES = ("sunspots",)
_BUNDLED = ("digits", "iris", "wine", "breast_cancer", "diabetes", "fashion_mnist") + _SERIES


def _check_series_keys(data, source):
    """A series dataset is cut into windows: it needs 'window', and cannot be stratified."""
    is_series = data.get("dataset") in _SERIES
    for key in ("window", "horizon"):
        if key in data and not is_series:
            raise RecipeError(f"{source}: key '{key}' in [data] applies to a time series "
                              f"(dataset one of {list(_SERIES)}).")
        if key in data and data[key] < 1:
            raise RecipeError(f"{source}: key '{key}' in [data] must be an integer >= 1. Got "
                              f"{data[key]!r}.")
    if is_series and "window" not in data:
        raise RecipeError(f"{source}: [data] dataset {data['dataset']!r} is a time series: give "
                          "'window' (past steps the model sees) and optionally 'horizon'.")
    if is_series and data.get("stratify"):
        raise RecipeError(f"{source}: key 'stratify' in [data] cannot apply to a time series: "
                          "it is split in time order.")


def series_splits(data: dict, source: str = "recipe"):
    """Train/validation/test windows of a series, split in time order.

    The series is cut into three consecutive periods (the last ``test_size`` and the
    ``val_size`` before it); the scaler is fitted on the training period only; each period's
    windows take their inputs from the ``window`` steps before each target, so no target of
    one period is seen as a target of another.
    """
    import numpy as np

    from profond import datasets
    from profond.data import timeseries_windows

    series = np.asarray(getattr(datasets, f"load_{data['dataset']}")(), dtype=np.float64)
    window, horizon = data["window"], data.get("horizon", 1)
    n = len(series)
    n_test = int(round(n * data.get("test_size", 0.2)))
    n_val = int(round(n * data.get("val_size", 0.1)))
    n_train = n - n_val - n_test
    if n_train < window + horizon:
        raise RecipeError(f"{source}: the training period ({n_train} steps) is shorter than "
                          f"window + horizon ({window + horizon}).")
    scaler = _scaler(data.get("scaling", "standard"), source)
    if scaler is not None:
        scaler.fit(series[:n_train, None])
        series = scaler.transform(series[:, None])[:, 0]
    bounds = [(0, n_train), (n_train - window, n_train + n_val), (n_train + n_val - window, n)]
    parts = []
    for lo, hi in bounds:
        piece = series[lo:hi]
        if len(piece) < window + horizon:  # an empty period: no windows
            parts.append((np.zeros((0, window, 1)), np.zeros((0, horizon))))
        else:
            parts.append(timeseries_windows(piece, window=window, horizon=horizon))
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = parts
    return x_train, x_val, x_test, y_train, y_val, y_test


def load_data(data: dict, source: str = "recipe"):
    """``(x, y)`` for a recipe's [data] section."""
    import numpy as np

    from profond import datasets

    if "dataset" in data:
        name = data["dataset"]
        _check_dataset_name(name, source)
        if name == "digits":
            return datasets.load_digits(images=bool(data.get("images", False)))
        if name == "fashion_mnist":
            (x, y), (xt, yt) = datasets.load_fashion_mnist()
            x = np.concatenate([x, xt])
            y = np.concatenate([y, yt])
            return (x[..., None] if data.get("images", False) else x.reshape(len(x), -1)), y
        return getattr(datasets, f"load_{name}")()
    path = data["path"]
    if not os.path.exists(path):
        raise FileNotFoundError(f"{source}: [data] path {path!r} does not exist.")
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as f:
            if "x" not in f or "y" not in f:
                raise RecipeError(f"{source}: {path} must hold arrays named 'x' and 'y'. Found "
                                  f"{sorted(f.files)}.")
            return f["x"], f["y"]
    if path.endswith(".csv"):
        table = np.genfromtxt(path, delimiter=",", names=True, dtype=np.float64)
        names = list(table.dtype.names)
        target = data.get("target", names[-1])
        if isinstance(target, int):
            target = names[target]
        if target not in names:
            raise RecipeError(f"{source}: [data] target {target!r} is not a column of {path}. "
                              f"Columns: {names}.")
        x = np.stack([table[n] for n in names if n != target], axis=1)
        y = table[target]
        if np.all(y == np.round(y)):
            y = y.astype(np.int64)
        return x, y
    raise RecipeError(f"{source}: [data] path must end in .csv or .npz. Got {path!r}.")


def _scaler(spec, source):
    from profond import data as pdata

    if spec in (None, "none"):
        return None
    if spec == "standard":
        return pdata.StandardScaler()
    if spec == "minmax":
        return pdata.MinMaxScaler()
    if isinstance(spec, (int, float)) and not isinstance(spec, bool) and spec > 0:
        return pdata.Rescaler(scale=1.0 / spec)
    raise RecipeError(f"{source}: [data] scaling must be 'standard', 'minmax', 'none' or a "
                      f"positive number to divide by. Got {spec!r}.")


def _typed(item):
    item = dict(item)
    return item.pop("type"), item


def build_model(recipe: dict, input_shape, source: str = "recipe"):
    """The ``Sequential`` model of a recipe's [model] section, built for ``input_shape``."""
    from profond import layers as registry
    from profond.layers import Input
    from profond.models import Sequential

    layers = []
    for i, item in enumerate(recipe["model"]["layers"]):
        kind, kwargs = _typed(item)
        try:
            layers.append(registry.get(kind)(**kwargs))
        except (TypeError, ValueError) as err:
            raise RecipeError(f"{source}: [model] layers[{i}] ({kind}): {err}") from None
    return Sequential([Input(tuple(input_shape))] + layers, name=recipe.get("name"))


def _optimizer(spec, source):
    from profond import optimizers

    if spec is None or isinstance(spec, str):
        return spec or "rmsprop"
    kind, kwargs = _typed(spec) if "type" in spec else (None, spec)
    if kind is None:
        raise RecipeError(f"{source}: [compile] optimizer table needs a 'type' key, e.g. "
                          "{ type = \"Adam\", learning_rate = 0.001 }.")
    try:
        return optimizers.get({"class_name": kind, "config": kwargs})
    except (TypeError, ValueError) as err:
        key = _culprit(kwargs, err)
        raise RecipeError(f"{source}: [compile] optimizer" + (f".{key}" if key else "")
                          + f": {err}") from None


def _resume_point(recipe, out_dir, epochs, batch_size, seed):
    """Check a resumption against the run folder; the saved results when the run had
    finished (nothing to do), else None."""
    from profond.callbacks.checkpoint import read_checkpoint_state

    fixed = {"batch_size": (batch_size, recipe.get("fit", {}).get("batch_size", 32)),
             "seed": (seed, recipe.get("seed", 0))}
    for name, (given, saved) in fixed.items():
        if given is not None and given != saved:
            raise ValueError(f"The '{name}' parameter of run_recipe must be the run's own "
                             f"({saved}) to resume it exactly. Got {given} instead.")
    if not out_dir:
        raise ValueError("Resuming needs the run folder of the interrupted run.")
    checkpoint_path = os.path.join(os.fspath(out_dir), "checkpoint.safetensors")
    if not os.path.exists(checkpoint_path):
        raise FileNotFoundError(f"No checkpoint to resume from in {os.fspath(out_dir)!r} "
                                f"(expected {checkpoint_path}).")
    state = read_checkpoint_state(checkpoint_path)
    done = state["epoch"] + 1
    planned = recipe.get("fit", {}).get("epochs", 10)
    if epochs is not None and epochs < done:
        raise ValueError(f"The 'epochs' parameter of run_recipe must be at least the {done} "
                         f"epochs the run in {os.fspath(out_dir)!r} has done to resume it. "
                         f"Got {epochs} instead.")
    wanted = planned if epochs is None else epochs
    results_path = os.path.join(os.fspath(out_dir), "results.json")
    finished = state.get("stopped") or done >= wanted
    if finished and os.path.exists(results_path):
        with open(results_path, encoding="utf-8") as fh:
            results = json.load(fh)
        why = f"stopped early at epoch {done}" if state.get("stopped") else \
            f"trained its {done} epochs"
        return {**results, "already_finished": True, "finished_because": why}
    return None


def run_recipe(recipe: dict, out_dir=None, verbose=1, epochs=None, batch_size=None, seed=None,
               source: str = "recipe", resume: bool = False) -> dict:
    """Train, evaluate and save what a recipe describes.

    Writes to ``out_dir`` (default ``runs/<name>-<time>``): ``recipe.json`` (the recipe as run,
    overrides included) at once, ``checkpoint.safetensors`` after every epoch, then
    ``history.csv``, ``learning_curves.png``, ``model.safetensors`` (the whole model:
    ``profond.load_model`` reads it) and ``results.json`` (test metrics, timings).

    With ``resume=True`` the run continues from ``out_dir``'s checkpoint: the data are
    prepared again with the same seed, the checkpoint restores the model, the optimizer state,
    the random generators and the callbacks' states, and training ends with the same weights,
    history and results as a run that was never interrupted. ``epochs`` may then extend the
    run (the result is that of a run started with that many epochs); fewer epochs than the
    run has done are refused. A run that had finished (all its epochs, or stopped early) and
    wrote its results is left untouched: its results come back with ``"already_finished":
    True``. Returns the results dict: test metrics, ``epochs_run`` (every epoch of the run,
    those before an interruption included), ``epochs_this_run`` and ``train_seconds`` (the
    epochs this call trained, and their time), ``initial_epoch`` (0 unless resumed).

    ``epochs``, ``batch_size`` and ``seed`` override the recipe's (None keeps them); each is
    checked, with ``out_dir``, before any work starts.
    """
    import numpy as np

    import profond
    from profond import data as pdata
    from profond import distribution
    from profond._files import atomic_write_text
    from profond._validation import check_int
    from profond.callbacks import ModelCheckpoint, load_checkpoint

    check_int(epochs, "epochs", "run_recipe", low=1, allow_none=True)
    check_int(batch_size, "batch_size", "run_recipe", low=1, allow_none=True)
    check_int(seed, "seed", "run_recipe", low=0, allow_none=True)
    if out_dir is not None and os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"The 'out_dir' parameter of run_recipe must be a folder (new or "
                         f"existing). Got {os.fspath(out_dir)!r}, an existing file, instead.")
    if resume:
        done = _resume_point(recipe, out_dir, epochs, batch_size, seed)
        if done is not None:
            return done
    seed = recipe["seed"] if seed is None else seed
    fit = dict(recipe.get("fit", {}))
    fit["epochs"] = epochs if epochs is not None else fit.get("epochs", 10)
    fit["batch_size"] = batch_size if batch_size is not None else fit.get("batch_size", 32)
    recipe = {**recipe, "seed": seed, "fit": fit}  # the recipe as run, overrides included
    out_dir = os.fspath(out_dir) if out_dir else os.path.join(
        "runs", f"{recipe['name']}-{time.strftime('%Y%m%d-%H%M%S')}")
    checkpoint_path = os.path.join(out_dir, "checkpoint.safetensors")
    writes = distribution.is_primary()  # under mpiexec, rank 0 alone writes the run folder
    if writes:
        os.makedirs(out_dir, exist_ok=True)
        atomic_write_text(os.path.join(out_dir, "recipe.json"),
                          json.dumps(recipe, indent=2) + "\n")
    profond.random.seed(seed)
    d = recipe["data"]
    if d.get("dataset") in _SERIES:
        x_train, x_val, x_test, y_train, y_val, y_test = series_splits(d, source)
    else:
        x, y = load_data(d, source)
        is_classification = np.asarray(y).dtype.kind in "iub"
        stratify = y if (d.get("stratify", True) and is_classification) else None
        x_train, x_val, x_test, y_train, y_val, y_test = pdata.train_val_test_split(
            x, y, val_size=d.get("val_size", 0.1), test_size=d.get("test_size", 0.2),
            stratify=stratify, seed=seed)
        scaler = _scaler(d.get("scaling", "standard"), source)
        if scaler is not None:
            x_train = scaler.fit_transform(x_train)  # fitted on the training split only
            x_val, x_test = scaler.transform(x_val), scaler.transform(x_test)

    model = build_model(recipe, x_train.shape[1:], source)
    comp = recipe["compile"]
    model.compile(optimizer=_optimizer(comp.get("optimizer"), source), loss=comp["loss"],
                  metrics=comp.get("metrics"), loss_weights=comp.get("loss_weights"))
    callbacks = []
    for item in fit.get("callbacks", []):
        kind, kwargs = _typed(item)
        callbacks.append(_callback_class(kind)(**kwargs))
    class_weight = fit.get("class_weight")
    if class_weight == "balanced":
        class_weight = pdata.compute_class_weight(y_train, "balanced")
    elif isinstance(class_weight, dict):
        class_weight = {int(k): float(v) for k, v in class_weight.items()}

    callbacks.append(ModelCheckpoint(checkpoint_path))  # full checkpoint, every epoch
    initial_epoch, past = 0, {}
    if resume:  # last thing before fit: it restores the random generators
        model, initial_epoch, past = load_checkpoint(checkpoint_path)
    t0 = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=fit["epochs"], batch_size=fit["batch_size"],
                        shuffle=fit.get("shuffle", True),
                        validation_data=(x_val, y_val) if len(x_val) else None,
                        callbacks=callbacks, class_weight=class_weight, verbose=verbose,
                        initial_epoch=initial_epoch)
    train_seconds = time.perf_counter() - t0
    test = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    if past:  # the epochs run before the interruption come first in the records (all of
        # them when the checkpoint was the run's last: then this fit ran no epoch)
        keys = dict.fromkeys([k for k in past if k != "epoch"] + list(history.history))
        history.history = {k: list(past.get(k, [])) + list(history.history.get(k, []))
                           for k in keys}
        history.epoch = list(past["epoch"]) + history.epoch
    history.to_csv(os.path.join(out_dir, "history.csv"))
    try:
        history.plot(os.path.join(out_dir, "learning_curves.png"), title=recipe["name"])
    except ImportError:  # matplotlib absent: the CSV still holds the curves
        pass
    if writes:
        model.save(os.path.join(out_dir, "model.safetensors"))
    # epochs_run counts the whole run; train_seconds times only the epochs this call ran
    # (epochs_this_run, after initial_epoch ones restored from the checkpoint).
    results = {"recipe": recipe["name"], "seed": seed, "epochs_run": len(history.epoch),
               "epochs_this_run": len(history.epoch) - initial_epoch,
               "initial_epoch": initial_epoch,
               "train_seconds": round(train_seconds, 3), "params": model.count_params(),
               "n_train": int(len(x_train)), "n_val": int(len(x_val)),
               "n_test": int(len(x_test)),
               **{f"test_{k}": float(v) for k, v in test.items()}, "out_dir": out_dir}
    if writes:
        atomic_write_text(os.path.join(out_dir, "results.json"),
                          json.dumps(results, indent=2) + "\n")
    return results
