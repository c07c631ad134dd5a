"""Optimizers: exact steps against the Keras formulas, options, state, configs, convergence."""

import math

import numpy as np
import pytest

import profond
from profond import Variable, layers, optimizers, schedules
from profond.ops import kernels
from profond.optimizers import (SGD, Adadelta, Adagrad, Adam, AdamW, Nadam, Optimizer,
                                RMSprop)

ALL = [SGD, Adagrad, RMSprop, Adam, AdamW, Nadam, Adadelta]


@pytest.fixture(autouse=True, params=["numpy", "numba"])
def kernel_path(request, monkeypatch):
    """Every test on both paths: NumPy's updates, and the compiled ones where numba is
    installed (profond.optimizers._compiled)."""
    if request.param == "numba" and not kernels.available():
        pytest.skip("numba is not installed")
    monkeypatch.setattr(kernels, "ENABLED", request.param == "numba")


def var64(values):
    return Variable(np.array(values, dtype=np.float64), dtype="float64")


# --- NumPy transcriptions of the update rules (Keras's, float64) -----------------------------

def ref_sgd(w, grads, lr, momentum=0.0, nesterov=False):
    v = np.zeros_like(w)
    for g in grads:
        if momentum == 0:
            w = w - lr * g
            continue
        v = momentum * v - lr * g
        w = w + (momentum * v - lr * g if nesterov else v)
    return w


def ref_adagrad(w, grads, lr, init=0.1, eps=1e-7):
    acc = np.full_like(w, init)
    for g in grads:
        acc = acc + g ** 2
        w = w - lr * g / np.sqrt(acc + eps)
    return w


def ref_rmsprop(w, grads, lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    vel, avg, buf = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        vel = rho * vel + (1 - rho) * g ** 2
        if centered:
            avg = rho * avg + (1 - rho) * g
            inc = lr * g / np.sqrt(vel - avg ** 2 + eps)
        else:
            inc = lr * g / np.sqrt(vel + eps)
        if momentum > 0:
            buf = momentum * buf + inc
            w = w - buf
        else:
            w = w - inc
    return w


def ref_adam(w, grads, lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=0.0):
    m, v, vhat = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        w = w - lr * wd * w
        m = m + (g - m) * (1 - b1)
        v = v + (g ** 2 - v) * (1 - b2)
        vv = v
        if amsgrad:
            vhat = np.maximum(vhat, v)
            vv = vhat
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - alpha * m / (np.sqrt(vv) + eps)
    return w


def ref_nadam(w, grads, lr, b1=0.9, b2=0.999, eps=1e-7):
    m, v = np.zeros_like(w), np.zeros_like(w)
    product = 1.0
    for t, g in enumerate(grads, start=1):
        u_t = b1 * (1 - 0.5 * 0.96 ** t)
        u_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        product *= u_t
        m = m + (g - m) * (1 - b1)
        v = v + (g ** 2 - v) * (1 - b2)
        m_hat = u_next * m / (1 - product * u_next) + (1 - u_t) * g / (1 - product)
        v_hat = v / (1 - b2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


def ref_adadelta(w, grads, lr, rho=0.95, eps=1e-7):
    acc_g, acc_d = np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        acc_g = rho * acc_g + (1 - rho) * g ** 2
        delta = np.sqrt(acc_d + eps) / np.sqrt(acc_g + eps) * g
        acc_d = rho * acc_d + (1 - rho) * delta ** 2
        w = w - lr * delta
    return w


CASES = [
    (lambda: SGD(0.1), lambda w, gs: ref_sgd(w, gs, 0.1)),
    (lambda: SGD(0.1, momentum=0.9), lambda w, gs: ref_sgd(w, gs, 0.1, 0.9)),
    (lambda: SGD(0.1, momentum=0.9, nesterov=True), lambda w, gs: ref_sgd(w, gs, 0.1, 0.9, True)),
    (lambda: Adagrad(0.3), lambda w, gs: ref_adagrad(w, gs, 0.3)),
    (lambda: Adagrad(0.3, initial_accumulator_value=0.0, epsilon=0.5),
     lambda w, gs: ref_adagrad(w, gs, 0.3, 0.0, 0.5)),
    (lambda: RMSprop(0.01), lambda w, gs: ref_rmsprop(w, gs, 0.01)),
    (lambda: RMSprop(0.01, rho=0.8, momentum=0.5, epsilon=1e-3),
     lambda w, gs: ref_rmsprop(w, gs, 0.01, 0.8, 0.5, 1e-3)),
    (lambda: RMSprop(0.01, centered=True, momentum=0.3),
     lambda w, gs: ref_rmsprop(w, gs, 0.01, 0.9, 0.3, centered=True)),
    (lambda: Adam(0.01), lambda w, gs: ref_adam(w, gs, 0.01)),
    (lambda: Adam(0.01, beta_1=0.5, beta_2=0.9, epsilon=0.1),
     lambda w, gs: ref_adam(w, gs, 0.01, 0.5, 0.9, 0.1)),
    (lambda: Adam(0.01, amsgrad=True), lambda w, gs: ref_adam(w, gs, 0.01, amsgrad=True)),
    (lambda: AdamW(0.01), lambda w, gs: ref_adam(w, gs, 0.01, wd=0.004)),
    (lambda: AdamW(0.01, weight_decay=0.5, amsgrad=True),
     lambda w, gs: ref_adam(w, gs, 0.01, amsgrad=True, wd=0.5)),
    (lambda: Nadam(0.01), lambda w, gs: ref_nadam(w, gs, 0.01)),
    (lambda: Adadelta(1.0), lambda w, gs: ref_adadelta(w, gs, 1.0)),
    (lambda: Adadelta(0.5, rho=0.5, epsilon=1e-3), lambda w, gs: ref_adadelta(w, gs, 0.5, 0.5, 1e-3)),
]


@pytest.mark.parametrize("make, reference", CASES)
def test_updates_follow_the_keras_formula(make, reference, rng):
    w0 = rng.normal(size=(3, 4))
    grads = [rng.normal(size=(3, 4)) for _ in range(6)]
    opt = make()
    w = var64(w0)
    for g in grads:
        opt.apply([g], [w])
    np.testing.assert_allclose(w.numpy(), reference(w0, grads), rtol=1e-12, atol=1e-14)
    assert opt.iterations == 6


def test_one_step_values_by_hand():
    w = var64([1.0, 2.0])
    SGD(0.1, momentum=0.9).apply([np.array([1.0, -1.0])], [w])
    np.testing.assert_allclose(w.numpy(), [0.9, 2.1])
    # Keras's RMSprop example: 10 - 0.1 * 10 / sqrt(0.1 * 100 + 1e-7)
    w = var64([10.0])
    RMSprop(0.1).apply([np.array([10.0])], [w])
    np.testing.assert_allclose(w.numpy(), [10 - 1 / math.sqrt(10 + 1e-7)], rtol=1e-14)
    # Adam's first step is lr * g / (|g| + eps / sqrt(1 - beta_2)).
    w = var64([0.0, 0.0])
    g = np.array([3.0, -0.5])
    Adam(0.1).apply([g], [w])
    np.testing.assert_allclose(w.numpy(), -0.1 * g / (np.abs(g) + 1e-7 / math.sqrt(0.001)),
                               rtol=1e-14)


def test_float32_variables_stay_float32_and_in_place(rng):
    for cls in ALL:
        w = Variable(rng.normal(size=(5,)).astype("float32"))
        data = w.data
        opt = cls(learning_rate=0.01) if cls is not AdamW else cls(0.01)
        opt.apply([rng.normal(size=(5,))], [w])  # a float64 gradient
        slots = [id(a) for a in opt._slots[0].values()]
        opt.apply([rng.normal(size=(5,)).astype("float32")], [w])
        assert w.data is data and w.data.dtype == np.float32, cls
        assert [id(a) for a in opt._slots[0].values()] == slots
        assert all(a.dtype == np.float32 for a in opt._slots[0].values())


def test_none_gradient_leaves_variable_and_counts_the_step():
    a, b = var64([1.0]), var64([1.0])
    opt = SGD(0.5)
    opt.apply([None, np.array([1.0])], [a, b])
    assert a.numpy()[0] == 1.0 and b.numpy()[0] == 0.5 and opt.iterations == 1
    with pytest.raises(ValueError, match="2 gradients for 1 variables"):
        opt.apply([None, None], [a])


def test_tensor_gradients_and_apply_gradients():
    w = var64([2.0])
    opt = SGD(0.25)
    opt.apply_gradients(zip([profond.tensor([4.0], dtype="float64")], [w]))
    assert w.numpy()[0] == 1.0


# --- shared options ------------------------------------------------------------------------

def test_decoupled_weight_decay():
    for cls in (SGD, Adam, RMSprop, Adagrad):
        w = var64([2.0, -4.0])
        cls(learning_rate=0.1, weight_decay=0.5).apply([np.zeros(2)], [w])
        np.testing.assert_allclose(w.numpy(), [2.0 * 0.95, -4.0 * 0.95], err_msg=cls.__name__)
    w = var64([2.0])
    AdamW(0.1, weight_decay=0.5).apply([np.zeros(1)], [w])
    np.testing.assert_allclose(w.numpy(), [1.9])


def test_exclude_from_weight_decay():
    kernel, bias, other = var64([1.0]), var64([1.0]), var64([1.0])
    bias.name = "bias"
    opt = SGD(0.1, weight_decay=1.0)
    opt.exclude_from_weight_decay(var_list=[other], var_names=["bi.s"])
    opt.apply([np.zeros(1)] * 3, [kernel, bias, other])
    np.testing.assert_allclose([kernel.numpy()[0], bias.numpy()[0], other.numpy()[0]],
                               [0.9, 1.0, 1.0])


def test_clipvalue_clipnorm_global_clipnorm():
    g = np.array([3.0, -4.0])
    w = var64([0.0, 0.0])
    SGD(1.0, clipvalue=1.0).apply([g], [w])
    np.testing.assert_allclose(w.numpy(), [-1.0, 1.0])
    w = var64([0.0, 0.0])
    SGD(1.0, clipnorm=1.0).apply([g], [w])
    np.testing.assert_allclose(w.numpy(), [-0.6, 0.8])
    w = var64([0.0, 0.0])
    SGD(1.0, clipnorm=10.0).apply([g], [w])  # under the norm: untouched
    np.testing.assert_allclose(w.numpy(), [-3.0, 4.0])
    a, b = var64([0.0, 0.0]), var64([0.0])
    SGD(1.0, global_clipnorm=6.5).apply([g, np.array([12.0])], [a, b])  # global norm 13
    np.testing.assert_allclose(np.concatenate([a.numpy(), b.numpy()]), [-1.5, 2.0, -6.0])
    assert np.array_equal(g, [3.0, -4.0])  # the caller's gradient is not modified


def test_constraint_applied_after_update():
    w = var64([1.0, -1.0])
    w.constraint = lambda a: np.clip(a, 0.0, None)
    SGD(0.5).apply([np.array([1.0, 1.0])], [w])
    np.testing.assert_allclose(w.numpy(), [0.5, 0.0])


# --- learning rates ------------------------------------------------------------------------

def test_schedule_is_evaluated_at_iterations():
    sched = schedules.PiecewiseConstantDecay([1], [1.0, 0.1])
    w = var64([0.0])
    opt = SGD(sched)
    rates = []
    for _ in range(4):
        rates.append(opt.learning_rate)
        opt.apply([np.array([1.0])], [w])
    assert rates == [1.0, 1.0, 0.1, 0.1]
    np.testing.assert_allclose(w.numpy(), [-2.2])
    assert opt.last_learning_rate == 0.1


def test_per_epoch_schedule_needs_steps_per_epoch():
    opt = SGD(schedules.StepDecay(1.0, drop=0.5, every=1))
    with pytest.raises(ValueError, match="steps_per_epoch"):
        opt.learning_rate
    opt.steps_per_epoch = 3
    w = var64([0.0])
    rates = []
    for _ in range(7):
        rates.append(opt.learning_rate)
        opt.apply([np.array([1.0])], [w])
    assert rates == [1.0] * 3 + [0.5] * 3 + [0.25]


def test_callable_learning_rates():
    opt = SGD(lambda step: 1.0 / (step + 1))
    w = var64([0.0])
    for _ in range(3):
        opt.apply([np.array([1.0])], [w])
    np.testing.assert_allclose(w.numpy(), [-(1 + 1 / 2 + 1 / 3)])
    box = [0.25]
    opt = SGD(lambda: box[0])  # Keras's zero-argument form
    assert opt.learning_rate == 0.25


def test_learning_rate_setter():
    opt = Adam(0.01)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    with pytest.raises(ValueError, match="'learning_rate' parameter of Adam"):
        opt.learning_rate = -1.0
    opt = Adam(schedules.ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.1
    opt.learning_rate = schedules.ExponentialDecay(0.2, 10, 0.5)  # a new schedule is fine
    assert opt.learning_rate == pytest.approx(0.2)


# --- state, configs, names -----------------------------------------------------------------

@pytest.mark.parametrize("cls", ALL)
def test_state_round_trip_resumes_exactly(cls, rng):
    make = (lambda: cls(learning_rate=0.05, amsgrad=True)) if cls in (Adam, AdamW) else \
        (lambda: cls(learning_rate=0.05, momentum=0.5)) if cls in (SGD, RMSprop) else \
        (lambda: cls(learning_rate=0.05))
    grads = [[rng.normal(size=(2, 3)), rng.normal(size=(3,))] for _ in range(10)]
    ws = [var64(rng.normal(size=(2, 3))), var64(rng.normal(size=(3,)))]
    opt = make()
    for g in grads[:5]:
        opt.apply(g, ws)
    opt.learning_rate = 0.02  # as ReduceLROnPlateau would
    state = opt.get_state()
    saved = [w.numpy().copy() for w in ws]
    for g in grads[5:]:
        opt.apply(g, ws)
    expected = [w.numpy().copy() for w in ws]

    clones = [var64(s) for s in saved]
    fresh = make()
    fresh.set_state(state, clones)
    assert fresh.iterations == 5 and fresh.learning_rate == 0.02
    for g in grads[5:]:
        fresh.apply(g, clones)
    for a, b in zip(clones, expected):
        np.testing.assert_array_equal(a.numpy(), b)


def test_set_state_rejects_mismatches():
    opt = Adam()
    w = var64([1.0, 2.0])
    opt.apply([np.ones(2)], [w])
    state = opt.get_state()
    with pytest.raises(ValueError, match="shape"):
        Adam().set_state(state, [var64([1.0])])
    with pytest.raises(ValueError, match="slots"):
        SGD(momentum=0.9).set_state(state, [var64([1.0, 2.0])])
    with pytest.raises(ValueError, match="variables"):
        Adam().set_state(state, [var64([1.0, 2.0]), var64([1.0])])


def test_reset_forgets_state():
    opt = SGD(0.1, momentum=0.9)
    w = var64([1.0])
    opt.apply([np.ones(1)], [w])
    opt.reset()
    assert opt.iterations == 0 and opt.variables == [] and opt.get_state()["slots"] == []


@pytest.mark.parametrize("cls", ALL)
def test_config_round_trip(cls):
    opt = cls(learning_rate=schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=5,
                                                  unit="epoch"), clipnorm=2.0, name="mine")
    config = optimizers.serialize(opt)
    clone = optimizers.get(config)
    assert type(clone) is cls and clone.get_config() == opt.get_config()
    assert isinstance(clone._learning_rate, schedules.CosineDecay)
    assert clone._learning_rate.unit == "epoch" and clone.name == "mine"
    plain = cls(learning_rate=0.3)
    assert cls.from_config(plain.get_config()).get_config() == plain.get_config()


def test_keras_defaults():
    assert (SGD().learning_rate, SGD().momentum, SGD().nesterov) == (0.01, 0.0, False)
    a = Adam()
    assert (a.learning_rate, a.beta_1, a.beta_2, a.epsilon, a.amsgrad) == \
        (0.001, 0.9, 0.999, 1e-7, False)
    assert AdamW().weight_decay == 0.004
    r = RMSprop()
    assert (r.learning_rate, r.rho, r.momentum, r.epsilon, r.centered) == \
        (0.001, 0.9, 0.0, 1e-7, False)
    g = Adagrad()
    assert (g.learning_rate, g.initial_accumulator_value, g.epsilon) == (0.001, 0.1, 1e-7)
    d = Adadelta()
    assert (d.learning_rate, d.rho, d.epsilon) == (0.001, 0.95, 1e-7)
    n = Nadam()
    assert (n.learning_rate, n.beta_1, n.beta_2, n.epsilon) == (0.001, 0.9, 0.999, 1e-7)


def test_names_resolve_and_compile_default_is_rmsprop():
    for name, cls in [("sgd", SGD), ("Adam", Adam), ("adamw", AdamW), ("rmsprop", RMSprop),
                      ("adagrad", Adagrad), ("nadam", Nadam), ("adadelta", Adadelta)]:
        assert type(optimizers.get(name)) is cls
    assert type(optimizers.get(Adam)) is Adam
    with pytest.raises(ValueError, match="Valid names: .*'adam'"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="Could not interpret optimizer"):
        optimizers.get(3)
    model = profond.Sequential([layers.Dense(1)])
    model.compile(loss="mse")
    assert type(model.optimizer) is RMSprop
    model.compile(optimizer="adam", loss="mse")
    assert type(model.optimizer) is Adam


def test_register_custom_optimizer(fresh_registry):
    class SignSGD(Optimizer):
        def update_step(self, grad, var, lr, slots):
            var -= lr * np.sign(grad)

    optimizers.register("signsgd", SignSGD)
    w = var64([1.0, 1.0])
    optimizers.get("signsgd").apply([np.array([5.0, -0.1])], [w])
    np.testing.assert_allclose(w.numpy(), [0.999, 1.001])
    assert optimizers.serialize(SignSGD())["registered_name"] == "Custom>signsgd"
    with pytest.raises(TypeError):
        optimizers.register("bad", object)


@pytest.mark.parametrize("make, message", [
    (lambda: SGD(-0.1), "'learning_rate' parameter of SGD must be a float in [0, inf)"),
    (lambda: SGD(momentum=1.0), "'momentum' parameter of SGD must be a float in [0, 1)"),
    (lambda: SGD(momentum=-0.5), "'momentum' parameter of SGD"),
    (lambda: RMSprop(momentum=1.5), "'momentum' parameter of RMSprop"),
    (lambda: RMSprop(rho=1.0), "'rho' parameter of RMSprop"),
    (lambda: Adam(beta_1=1.0), "'beta_1' parameter of Adam"),
    (lambda: Adam(beta_2=-0.1), "'beta_2' parameter of Adam"),
    (lambda: AdamW(epsilon=-1e-7), "'epsilon' parameter of AdamW"),
    (lambda: AdamW(weight_decay=None), "'weight_decay' parameter of AdamW"),
    (lambda: Nadam(learning_rate="fast"), "'learning_rate' parameter of Nadam"),
    (lambda: Adagrad(initial_accumulator_value=-1), "'initial_accumulator_value'"),
    (lambda: Adadelta(rho=2), "'rho' parameter of Adadelta"),
    (lambda: Adam(weight_decay=-0.1), "'weight_decay' parameter of Adam"),
    (lambda: SGD(clipnorm=0), "'clipnorm' parameter of SGD"),
    (lambda: SGD(clipnorm=1.0, clipvalue=1.0), "parameters of SGD must be given one at most"),
])
def test_invalid_arguments(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)


# --- convergence ---------------------------------------------------------------------------

def _minimise(opt, grad_fn, w0, steps):
    w = var64(w0)
    for _ in range(steps):
        opt.apply([grad_fn(w.data)], [w])
    return w.numpy()


PARABOLA_SETTINGS = [
    (lambda: SGD(0.05), 400), (lambda: SGD(0.02, momentum=0.9), 400),
    (lambda: SGD(0.02, momentum=0.9, nesterov=True), 400), (lambda: Adagrad(1.0), 400),
    (lambda: RMSprop(0.01), 1000), (lambda: RMSprop(0.01, centered=True, momentum=0.5), 1000),
    (lambda: Adam(0.05), 1000), (lambda: Adam(0.05, amsgrad=True), 1000),
    (lambda: AdamW(0.05, weight_decay=1e-3), 1000), (lambda: Nadam(0.05), 1000),
    (lambda: Adadelta(1.0, epsilon=1e-4), 2000),
]


@pytest.mark.parametrize("make, steps", PARABOLA_SETTINGS)
def test_converges_on_a_parabola(make, steps):
    scales = np.array([1.0, 10.0])  # f(w) = sum(scales * (w - 1) ** 2) / 2
    w = _minimise(make(), lambda w: scales * (w - 1.0), np.array([-2.0, 3.0]), steps)
    np.testing.assert_allclose(w, [1.0, 1.0], atol=2e-2)


def _rosenbrock_grad(w):
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


ROSENBROCK_SETTINGS = [
    (lambda: SGD(1e-3, momentum=0.9), 5000), (lambda: SGD(1e-3, momentum=0.9, nesterov=True), 5000),
    (lambda: Adagrad(0.5), 5000), (lambda: RMSprop(1e-3, momentum=0.9), 5000),
    (lambda: Adam(0.02), 5000), (lambda: Adam(0.02, amsgrad=True), 5000),
    (lambda: AdamW(0.02, weight_decay=1e-4), 5000), (lambda: Nadam(0.02), 5000),
    (lambda: Adadelta(0.1, rho=0.9, epsilon=1e-6), 10000),
]


@pytest.mark.parametrize("make, steps", ROSENBROCK_SETTINGS)
def test_converges_on_rosenbrock(make, steps):
    w = _minimise(make(), _rosenbrock_grad, np.array([-1.2, 1.0]), steps)
    np.testing.assert_allclose(w, [1.0, 1.0], atol=5e-2)


def test_every_optimizer_trains_a_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    for make in [lambda: SGD(0.05), lambda: Adagrad(0.5), lambda: RMSprop(0.01),
                 lambda: Adam(0.02), lambda: AdamW(0.02), lambda: Nadam(0.02),
                 lambda: Adadelta(1.0, epsilon=1e-3)]:
        profond.random.seed(0)
        model = profond.Sequential([layers.Dense(1)])
        opt = make()
        model.compile(optimizer=opt, loss="mse")
        history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
        assert history.history["loss"][-1] < 0.5 * history.history["loss"][0], opt

