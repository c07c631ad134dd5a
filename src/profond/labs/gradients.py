"""Lab ``gradients``: vanishing gradients in a deep sigmoid network, not in ReLU with He init.

Two networks of the same shape (ten hidden layers of 32 units) on the bundled digits: one with
sigmoid activations and Glorot initialisation, one with ReLU and He initialisation. At
initialisation, the gradient of the loss with respect to each hidden layer's kernel is computed
with profond's autograd (``loss.backward()``, then each kernel's ``.grad``) and its norm plotted
layer by layer; then both networks train with the same optimizer and the same batches.

The sigmoid's derivative is at most 1/4, so every layer the gradient goes back through shrinks it:
the layers nearest the input get almost nothing and learn slowest.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from profond.labs._common import (Stopwatch, above, accuracy_of, all_ok, bears_out, below, fmt,
                                  load_digits_split, make_result, mlp, over_seeds, pyplot, save,
                                  seed_everything)

NAME = "gradients"
TITLE = "Vanishing gradients: deep sigmoid vs ReLU with He initialisation"
CLAIM = ("In a deep network, gradients can vanish (or explode) on their way back to the first "
         "layers: with sigmoids they shrink layer after layer, so the first layers hardly learn; "
         "ReLU with He initialisation keeps them at the same scale.")

DEPTH, WIDTH = 10, 32
NETWORKS = {"sigmoid + Glorot": ("sigmoid", "glorot_uniform"),
            "ReLU + He": ("relu", "he_normal")}


def layer_gradient_norms(model, x, y, batches=4, batch_size=128):
    """Mean L2 norm of d(loss)/d(kernel) for each Dense layer, input side first."""
    from profond import losses, tensor

    loss_fn = losses.SparseCategoricalCrossentropy()
    kernels = [v for v in model.trainable_weights if v.data.ndim == 2]
    norms = np.zeros(len(kernels))
    for b in range(batches):
        xb = x[b * batch_size:(b + 1) * batch_size]
        yb = y[b * batch_size:(b + 1) * batch_size]
        for v in model.trainable_weights:
            v.grad = None
        loss = loss_fn(yb, model(tensor(xb), training=True))
        loss.backward()
        norms += [float(np.linalg.norm(np.asarray(k.grad))) for k in kernels]
        for v in model.trainable_weights:
            v.grad = None
    return norms / batches


@over_seeds
def run(quick: bool = False, seed: int = 0, epochs: int | None = None):
    """Measure the per-layer gradient norms at initialisation, then train both networks.

    Parameters
    ----------
    quick : bool
        10 training epochs instead of 30.
    seed : int
    epochs : int, optional
    """
    import profond
    from profond import optimizers

    seed_everything(seed)
    epochs = epochs or (10 if quick else 30)
    out = {}
    with Stopwatch() as sw:
        x_tr, x_te, y_tr, y_te = load_digits_split(seed)
        for label, (activation, init) in NETWORKS.items():
            profond.random.seed(seed)
            model = mlp(x_tr.shape[1], [WIDTH] * DEPTH, 10, activation=activation,
                        output_activation="softmax", kernel_initializer=init)
            model.compile(optimizer=optimizers.SGD(learning_rate=0.01, momentum=0.9),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            model.build((None, x_tr.shape[1]))
            norms = layer_gradient_norms(model, x_tr, y_tr)
            history = model.fit(x_tr, y_tr, epochs=epochs, batch_size=32, verbose=0,
                                validation_data=(x_te, y_te))
            out[label] = {"grad_norms": norms, "accuracy": accuracy_of(model, x_te, y_te),
                          "val_accuracy_curve": history.history["val_accuracy"],
                          "ratio_first_to_last": float(norms[0] / norms[-1])}
    sig, relu = out["sigmoid + Glorot"], out["ReLU + He"]
    rows = [[label, fmt(r["grad_norms"][0]), fmt(r["grad_norms"][DEPTH // 2]),
             fmt(r["grad_norms"][-1]), fmt(r["ratio_first_to_last"]), round(r["accuracy"], 4)]
            for label, r in out.items()]
    checks = {
        "sigmoid_gradient_vanishes_toward_input": below(sig["ratio_first_to_last"], 0.01,
                                                        "sigmoid: first/last gradient norm"),
        "relu_he_gradient_keeps_its_scale": below(abs(math.log10(relu["ratio_first_to_last"])), 1.0,
                                                  "ReLU+He: |log10 first/last gradient norm|"),
        "relu_he_learns_better": above(relu["accuracy"] - sig["accuracy"], 0.1,
                                       "accuracy, ReLU+He minus sigmoid"),
    }
    holds = all_ok(checks)
    verdict = (bears_out(holds) + f"at initialisation, the first hidden layer of the sigmoid "
               f"network gets a gradient {fmt(sig['ratio_first_to_last'])} times the output "
               f"layer's, against {fmt(relu['ratio_first_to_last'])} times for ReLU with He "
               f"initialisation. After {epochs} epochs of the same training, the sigmoid network "
               f"reaches {fmt(sig['accuracy'])} test accuracy and the ReLU one "
               f"{fmt(relu['accuracy'])}.")
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["network", "|grad| layer 1", f"|grad| layer {DEPTH // 2 + 1}",
                                "|grad| output layer", "first / last", "test accuracy"],
                       rows=rows, data={"networks": out, "epochs": epochs, "depth": DEPTH},
                       checks=checks, verdict=verdict)


def plot(result, out_dir) -> list:
    """``gradients.png``: per-layer gradient norms at initialisation (log scale) and the
    validation accuracy of both networks as they train."""
    plt = pyplot()
    nets = result["data"]["networks"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    for label, r in nets.items():
        norms = r["grad_norms"]
        ax.plot(range(1, len(norms) + 1), norms, marker="o", label=label)
        curve = r["val_accuracy_curve"]
        bx.plot(range(1, len(curve) + 1), curve, marker="o", ms=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = next to the input; last = output)")
    ax.set_ylabel("|dL/dW| at initialisation")
    ax.set_title("Gradient norm per layer")
    ax.legend()
    bx.set_xlabel("epoch")
    bx.set_ylabel("validation accuracy")
    bx.set_title("Training the same architecture")
    bx.legend()
    fig.tight_layout()
    return [save(fig, out_dir, "gradients.png")]
