"""Lab ``activations``: the same network trained with each activation function, step included.

One multilayer perceptron (three hidden layers of 32 units) on the bundled digits, trained
identically (SGD with momentum, same seed, same batches) with each hidden activation. The
figures: test accuracy, final training loss, and how far the hidden layers' weights moved.
The step function's derivative is zero almost everywhere, so its hidden layers receive no
gradient at all: only the output layer learns, on top of frozen random binary features.
``step_ste`` is the same step with the straight-through estimator (a gradient passed through as
if the step were the identity near 0), which shows that the missing gradient is the problem.
"""

from __future__ import annotations

import sys

import numpy as np

from profond.labs._common import (Stopwatch, above, accuracy_of, all_ok, bears_out, below, fmt,
                                  load_digits_split, make_result, mlp, over_seeds, pyplot, save,
                                  seed_everything)

NAME = "activations"
TITLE = "Activation functions, the step function included"
CLAIM = ("Activations bring non-linearity and bound the outputs (ReLU never returns a negative "
         "value); some make convergence hard: with the step function the network hardly learns.")

ACTIVATIONS = ("step", "step_ste", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
               "gelu")
HIDDEN = (32, 32, 32)
CHANCE = 0.1


def train_one(activation, data, epochs, seed):
    """Train the network with ``activation``; return its figures and loss curve."""
    import profond
    from profond import optimizers

    x_tr, x_te, y_tr, y_te = data
    profond.random.seed(seed)
    init = "he_normal" if activation in ("relu", "leaky_relu", "elu", "gelu") else \
        "glorot_uniform"
    model = mlp(x_tr.shape[1], HIDDEN, 10, activation=activation, output_activation="softmax",
                kernel_initializer=init)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.02, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.build((None, x_tr.shape[1]))
    before = model.get_weights()
    with Stopwatch() as sw:
        history = model.fit(x_tr, y_tr, epochs=epochs, batch_size=32, verbose=0)
    after = model.get_weights()
    kernels = range(0, 2 * len(HIDDEN), 2)  # hidden kernels in get_weights() order
    moved = max(float(np.abs(after[i] - before[i]).max()) for i in kernels)
    return {"accuracy": accuracy_of(model, x_te, y_te),
            "train_loss": float(history.history["loss"][-1]),
            "hidden_weight_change": moved, "seconds": sw.seconds,
            "curve": [float(v) for v in history.history["loss"]]}


@over_seeds
def run(quick: bool = False, seed: int = 0, epochs: int | None = None):
    """Train the network once per activation.

    Parameters
    ----------
    quick : bool
        15 epochs instead of 40.
    seed : int
    epochs : int, optional
    """
    seed_everything(seed)
    epochs = epochs or (15 if quick else 40)
    with Stopwatch() as sw:
        data = load_digits_split(seed)
        runs = {a: train_one(a, data, epochs, seed) for a in ACTIVATIONS}
    rows = [[a, round(r["accuracy"], 4), round(r["train_loss"], 4),
             round(r["hidden_weight_change"], 4), round(r["seconds"], 2)] for a, r in runs.items()]
    step, relu, ste = runs["step"], runs["relu"], runs["step_ste"]
    best = max(runs, key=lambda a: runs[a]["accuracy"])
    checks = {
        "step_hidden_layers_never_move": below(step["hidden_weight_change"], 0.0,
                                                 "step: largest hidden weight change",
                                                 strict=False),
        "step_far_below_relu": below(step["accuracy"] - relu["accuracy"], -0.25,
                                     "step minus ReLU test accuracy"),
        "relu_learns": above(relu["accuracy"], 0.9, "ReLU test accuracy"),
        "relu_outputs_never_negative": True,
    }
    from profond import activations

    probe = np.linspace(-5, 5, 101).astype(np.float32)
    relu_min = float(np.asarray(activations.get("relu")(probe).data).min())
    checks["relu_outputs_never_negative"] = relu_min >= 0.0
    holds = all_ok(checks)
    verdict = (bears_out(holds) + f"with step activations the hidden layers' weights moved by "
               f"{fmt(step['hidden_weight_change'])} (no gradient reaches them), and the network "
               f"reaches {fmt(step['accuracy'])} test accuracy against {fmt(relu['accuracy'])} "
               f"with ReLU (chance is {CHANCE}). ")
    if step["accuracy"] > 2 * CHANCE:
        verdict += ("It is not at chance: the output layer still learns a linear read-out of the "
                    "frozen random binary features. ")
    verdict += (f"The same step with a straight-through gradient reaches {fmt(ste['accuracy'])}, "
                f"so the missing gradient is what stops it. The best activation here is {best} "
                f"({fmt(runs[best]['accuracy'])}); with no activation at all (linear) the network "
                f"is a linear classifier and reaches {fmt(runs['linear']['accuracy'])}, since "
                "digits are almost linearly separable.")
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["activation", "test accuracy", "final train loss",
                                "max hidden weight change", "train seconds"],
                       rows=rows, data={"runs": runs, "epochs": epochs, "chance": CHANCE},
                       checks=checks, verdict=verdict)


def plot(result, out_dir) -> list:
    """``activations_training.png`` (accuracy bars and loss curves) and
    ``activations_shapes.png`` (each function and its gradient)."""
    import profond
    from profond import activations

    plt = pyplot()
    runs = result["data"]["runs"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.2))
    names = list(runs)
    ax.bar(names, [runs[a]["accuracy"] for a in names],
           color=["crimson" if a == "step" else "C0" for a in names])
    ax.axhline(result["data"]["chance"], color="k", ls="--", lw=1, label="chance")
    ax.set_ylabel("test accuracy")
    ax.set_title("Same network, each activation (digits)")
    ax.tick_params(axis="x", rotation=45)
    ax.legend()
    for a in names:
        bx.plot(range(1, len(runs[a]["curve"]) + 1), runs[a]["curve"], label=a,
                lw=2.5 if a == "step" else 1.2)
    bx.set_yscale("log")
    bx.set_xlabel("epoch")
    bx.set_ylabel("training loss")
    bx.set_title("Training loss")
    bx.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    paths = [save(fig, out_dir, "activations_training.png")]

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    z = np.linspace(-4, 4, 401)
    for a in ("step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu"):
        t = profond.tensor(z, requires_grad=True)
        out = activations.get(a)(t)
        out.sum().backward()
        ax.plot(z, np.asarray(out.data), label=a)
        bx.plot(z, np.asarray(t.grad), label=a)
    ax.set_title("f(z)")
    bx.set_title("f'(z) as backpropagated (step: 0 everywhere)")
    for axis in (ax, bx):
        axis.set_xlabel("z")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    fig.tight_layout()
    paths.append(save(fig, out_dir, "activations_shapes.png"))
    return paths
