"""Lab ``backprop``: a tiny network's forward values and backward gradients, step by step.

The network is ``2 -> Dense(3, tanh) -> Dense(1, sigmoid)``, one sample, squared-error loss,
in float64. Three computations of every gradient are set side by side:

1. the chain rule written out by hand in NumPy, layer by layer, from the output back;
2. profond's reverse-mode autodiff (``loss.backward()``, then each weight's ``.grad``);
3. central finite differences on the loss, one weight at a time.

Then one gradient-descent step with those gradients must lower the loss.
"""

from __future__ import annotations

import sys

import numpy as np

from profond.labs._common import (Stopwatch, all_ok, bears_out, below, fmt, make_result, over_seeds,
                                  pyplot, save, seed_everything)

NAME = "backprop"
TITLE = "Forward and backward propagation"
CLAIM = ("Forward propagation computes the output layer by layer; backward propagation sends "
         "the loss's gradient back through the same layers by the chain rule, giving each "
         "weight's gradient, which gradient descent follows.")

PARAMS = ("W1", "b1", "W2", "b2")


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def chain_rule(x, y, w1, b1, w2, b2):
    """Forward values and every gradient by the chain rule, in NumPy (the lesson's algebra)."""
    z1 = x @ w1 + b1
    a1 = np.tanh(z1)
    z2 = a1 @ w2 + b2
    a2 = _sigmoid(z2)
    loss = float(((a2 - y) ** 2).mean())
    d_a2 = 2.0 * (a2 - y) / a2.size          # dL/da2
    d_z2 = d_a2 * a2 * (1.0 - a2)            # sigmoid' = s (1 - s)
    d_w2, d_b2 = a1.T @ d_z2, d_z2.sum(0)
    d_a1 = d_z2 @ w2.T                       # back through the second layer's weights
    d_z1 = d_a1 * (1.0 - a1 ** 2)            # tanh' = 1 - tanh²
    d_w1, d_b1 = x.T @ d_z1, d_z1.sum(0)
    forward = {"x": x, "z1 = x W1 + b1": z1, "a1 = tanh(z1)": a1, "z2 = a1 W2 + b2": z2,
               "a2 = sigmoid(z2)": a2, "loss = (a2 - y)²": loss}
    backward = {"dL/da2": d_a2, "dL/dz2": d_z2, "dL/da1": d_a1, "dL/dz1": d_z1}
    return forward, backward, {"W1": d_w1, "b1": d_b1, "W2": d_w2, "b2": d_b2}


@over_seeds
def run(quick: bool = False, seed: int = 0, learning_rate: float = 0.5):
    """Compute the gradients three ways and take one descent step.

    Parameters
    ----------
    quick : bool
        Unused: the lab is instantaneous either way.
    seed : int
        Seeds the initial weights.
    learning_rate : float
        The step size of the final gradient-descent step.
    """
    from profond import Input, Sequential, backend, layers, no_grad, tensor
    from profond.testing import gradcheck

    seed_everything(seed)
    with Stopwatch() as sw, backend.floatx_scope("float64"):
        model = Sequential([Input((2,)), layers.Dense(3, activation="tanh"),
                            layers.Dense(1, activation="sigmoid")])
        x = np.array([[0.5, -1.2]])
        y = np.array([[1.0]])
        model.build((None, 2))
        weights = [np.asarray(w, np.float64) for w in model.get_weights()]

        forward, backward, by_hand = chain_rule(x, y, *weights)

        def loss_of(current):
            model.set_weights(current)
            with no_grad():
                out = np.asarray(model(tensor(x)).data)
            return float(((out - y) ** 2).mean())

        model.set_weights(weights)
        pred = model(tensor(x))
        loss = ((pred - tensor(y)) ** 2).mean()
        for v in model.trainable_weights:
            v.grad = None
        loss.backward()
        autograd = {p: np.asarray(v.grad, np.float64).copy()
                    for p, v in zip(PARAMS, model.trainable_weights)}

        eps = 1e-6
        numeric = {}
        for k, p in enumerate(PARAMS):
            g = np.zeros_like(weights[k])
            for idx in np.ndindex(g.shape):
                plus = [w.copy() for w in weights]
                minus = [w.copy() for w in weights]
                plus[k][idx] += eps
                minus[k][idx] -= eps
                g[idx] = (loss_of(plus) - loss_of(minus)) / (2 * eps)
            numeric[p] = g

        # profond's own checker, on the same computation written with tensors.
        def net(x_t, w1, b1, w2, b2):
            a1 = (x_t @ w1 + b1).tanh()
            return (((a1 @ w2 + b2).sigmoid() - y) ** 2).mean()

        gradcheck_ok = gradcheck(net, x, *weights)

        stepped = [w - learning_rate * autograd[p] for w, p in zip(weights, PARAMS)]
        loss_after = loss_of(stepped)
        model.set_weights(weights)

    rows, err_auto_hand, err_auto_num = [], 0.0, 0.0
    for p in PARAMS:
        for idx in np.ndindex(autograd[p].shape):
            a, h, n = autograd[p][idx], by_hand[p][idx], numeric[p][idx]
            err_auto_hand = max(err_auto_hand, abs(a - h))
            err_auto_num = max(err_auto_num, abs(a - n))
            rows.append([f"{p}{list(idx)}", float(h), float(a), float(n), float(abs(a - n))])
    forward_gap = abs(float(np.asarray(pred.data).ravel()[0]) -
                      float(forward["a2 = sigmoid(z2)"].ravel()[0]))
    checks = {
        "forward_matches_by_hand": forward_gap < 1e-12,
        "autograd_equals_chain_rule": err_auto_hand < 1e-12,
        "autograd_matches_finite_differences": below(err_auto_num, 1e-8,
                                                     "autograd vs finite differences"),
        "gradcheck_passes": gradcheck_ok,
        "descent_step_lowers_loss": loss_after < forward["loss = (a2 - y)²"],
    }
    holds = all_ok(checks)
    verdict = (bears_out(holds) + f"profond's forward output equals the hand computation to "
               f"{fmt(forward_gap)}; its backward gradients equal the chain rule's to "
               f"{fmt(err_auto_hand)} and central differences to {fmt(err_auto_num)} over all "
               f"{len(rows)} weights; one step of size {learning_rate} along them takes the loss "
               f"from {fmt(forward['loss = (a2 - y)²'], 4)} to {fmt(loss_after, 4)}.")
    data = {"forward": {k: np.asarray(v).ravel() for k, v in forward.items()},
            "backward": {k: np.asarray(v).ravel() for k, v in backward.items()},
            "by_hand": {p: by_hand[p].ravel() for p in PARAMS},
            "autograd": {p: autograd[p].ravel() for p in PARAMS},
            "numeric": {p: numeric[p].ravel() for p in PARAMS},
            "loss_before": forward["loss = (a2 - y)²"], "loss_after": loss_after,
            "learning_rate": learning_rate}
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["weight", "chain rule (NumPy)", "autograd (profond)",
                                "finite differences", "|autograd - finite diff.|"],
                       rows=rows, data=data, checks=checks, verdict=verdict)


def plot(result, out_dir) -> list:
    """``backprop.png``: the forward and backward values, then the three gradients side by
    side and their disagreement."""
    plt = pyplot()
    d = result["data"]
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6), gridspec_kw={"width_ratios": [1.1, 1.4, 1]})
    ax = axes[0]
    ax.axis("off")
    lines = ["forward"]
    lines += [f"  {k}: {np.round(np.asarray(v, float), 4).tolist()}" for k, v in
              d["forward"].items()]
    lines += ["", "backward (chain rule)"]
    lines += [f"  {k}: {np.round(np.asarray(v, float), 4).tolist()}" for k, v in
              d["backward"].items()]
    lines += ["", f"one step (lr={d['learning_rate']}): loss {float(d['loss_before']):.4f}"
                  f" -> {float(d['loss_after']):.4f}"]
    ax.text(0, 1, "\n".join(lines), va="top", family="monospace", fontsize=7.5)
    ax.set_title("Values, step by step")
    labels = [r[0] for r in result["table"]["rows"]]
    idx = np.arange(len(labels))
    width = 0.27
    bx = axes[1]
    for j, (key, name) in enumerate((("by_hand", "chain rule"), ("autograd", "autograd"),
                                     ("numeric", "finite differences"))):
        values = np.concatenate([np.asarray(d[key][p], float) for p in ("W1", "b1", "W2", "b2")])
        bx.bar(idx + (j - 1) * width, values, width, label=name)
    bx.set_xticks(idx, labels, rotation=70, fontsize=7)
    bx.set_ylabel("dL/dw")
    bx.set_title("Each weight's gradient, three ways")
    bx.legend(fontsize=8)
    cx = axes[2]
    errs = np.array([max(r[4], 1e-18) for r in result["table"]["rows"]])
    cx.bar(idx, errs)
    cx.set_yscale("log")
    cx.set_xticks(idx, labels, rotation=70, fontsize=7)
    cx.set_title("|autograd - finite differences|")
    fig.tight_layout()
    return [save(fig, out_dir, "backprop.png")]
