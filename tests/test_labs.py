"""Every lab runs in quick mode on its default seeds (3, from seed 0), returns plain data with
per-seed figures, their mean and spread, plots, and its claim's checks hold over the seeds.

To keep the whole file under about 90 seconds on a quiet machine, some labs get smaller
settings than their quick mode through their documented ``run()`` arguments (fewer epochs or
points); the claims are checked on those runs all the same.
"""

import json
import os

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

from profond import labs  # noqa: E402

# Test-only settings (documented arguments of each lab's run()).
SMALL = {
    "width-vs-depth": {"widths": (4, 16), "depths": (1, 3)},
    "fitting": {},
    "batch-epochs": {"epochs": 5},
    "balancing": {"epochs": 10},
    "activations": {"epochs": 10},
    "gradients": {"epochs": 6},
    "learning-rate": {"epochs": 6},
    "schedules": {"epochs": 8},
    "optimizers": {"steps": 1000, "epochs": 3},
    "normalization-init": {},
    "regularization": {"epochs": 30, "prune_epochs": 3},
    "layers": {"epochs": 8},
}

_CACHE = {}


def result_of(name):
    """Run a lab once per test session (quick mode, seeds 0, 1, 2)."""
    if name not in _CACHE:
        module = labs.get(name)
        _CACHE[name] = module.run(quick=True, seed=0, **SMALL.get(name, {}))
    return _CACHE[name]


AVAILABLE = labs.names()


def test_registry_lists_the_deck_in_order():
    assert labs.names(include_missing=True)[0] == "classical-vs-deep"
    assert len(labs.names(include_missing=True)) == 15
    assert set(AVAILABLE) <= set(labs.LABS)
    for name in ("classical-vs-deep", "backprop", "activations", "losses", "balancing"):
        assert name in AVAILABLE


def test_unknown_lab_names_the_close_match():
    with pytest.raises(ValueError, match="did you mean 'losses'"):
        labs.get("loses")


@pytest.mark.parametrize("name", AVAILABLE)
def test_lab_result_is_plain_data_and_its_claim_holds(name):
    r = result_of(name)
    json.dumps(r)  # plain data only
    module = labs.get(name)
    assert r["lab"] == module.NAME == name
    assert r["claim"] == module.CLAIM and r["claim"]
    assert r["table"]["rows"] and all(len(row) == len(r["table"]["columns"])
                                      for row in r["table"]["rows"])
    assert r["checks"], "a lab must test its claim on its numbers"
    failed = [k for k, ok in r["checks"].items() if not ok]
    assert not failed, f"{name}: {failed}\n{r['verdict']}"
    assert r["holds"] is True
    assert r["verdict"].startswith("The figures bear the claim out over 3 seeds")


@pytest.mark.parametrize("name", AVAILABLE)
def test_lab_states_each_claim_over_seeds_with_mean_and_spread(name):
    r = result_of(name)
    assert r["seeds"] == [0, 1, 2] and r["seed"] == 0
    assert [p["seed"] for p in r["per_seed"]] == r["seeds"]
    assert set(r["claims"]) == set(r["checks"]) == set(r["per_seed"][0]["figures"])
    for k, c in r["claims"].items():
        values = [p["figures"][k]["value"] for p in r["per_seed"]]
        assert c["values"] == values and len(values) == 3
        assert np.isclose(c["mean"], np.mean(values)) and np.isclose(c["std"], np.std(values))
        assert c["min"] == min(values) and c["max"] == max(values)
        assert c["seeds_needed"] == 2
        assert c["seeds_held"] == sum(p["figures"][k]["ok"] for p in r["per_seed"])
        assert c["holds"] == (c["holds_on_mean"] and c["seeds_held"] >= 2)
        assert r["checks"][k] == c["holds"]
        assert f"{k}" in r["verdict"]  # each claim's figure is stated in the verdict
    assert r["holds"] == all(r["checks"].values())


@pytest.mark.parametrize("name", AVAILABLE)
def test_lab_plots_png_files(name, tmp_path):
    paths = labs.get(name).plot(result_of(name), tmp_path)
    assert paths
    for p in paths:
        with open(p, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


# --- the claims, on the figures themselves -------------------------------------------------

def _rows(name):
    r = result_of(name)
    return {row[0]: dict(zip(r["table"]["columns"], row)) for row in r["table"]["rows"]}


def test_losses_mae_slope_error_below_mse():
    rows = _rows("losses")
    assert rows["mae"]["slope error"] < rows["mse"]["slope error"]
    assert rows["huber"]["slope error"] < rows["mse"]["slope error"]
    assert rows["mse"]["slope error"] > 0.3  # the outliers really pull the MSE line


def test_activations_step_far_below_relu():
    rows = _rows("activations")
    assert rows["step"]["max hidden weight change"] == 0.0
    assert rows["relu"]["test accuracy"] > 0.9
    assert rows["step"]["test accuracy"] < rows["relu"]["test accuracy"] - 0.25


def test_backprop_gradients_agree():
    r = result_of("backprop")
    assert max(row[4] for row in r["table"]["rows"]) < 1e-8
    assert r["data"]["loss_after"] < r["data"]["loss_before"]


def test_gradients_vanish_in_deep_sigmoid():
    nets = result_of("gradients")["data"]["networks"]
    sig, relu = nets["sigmoid + Glorot"]["grad_norms"], nets["ReLU + He"]["grad_norms"]
    assert sig[0] < 0.01 * sig[-1]
    assert relu[0] > 0.1 * relu[-1]


def test_balancing_weights_raise_rare_recall():
    runs = result_of("balancing")["data"]["runs"]
    base, cw = runs["no weights"], runs["class_weight='balanced'"]
    assert cw["rare_recall"] > base["rare_recall"] + 0.1


def test_optimizers_winner_depends_on_the_problem():
    d = result_of("optimizers")["data"]
    assert len(set(d["winners"].values())) > 1
    digits = d["problems"]["digits MLP"]["runs"]
    assert all(r["val_accuracy"] > 0.8 for r in digits.values())


def test_normalization_init_scaling_init_and_guard():
    d = result_of("normalization-init")["data"]
    acc = {k: r["accuracy"] for k, r in d["scaling"].items()}
    assert min(acc["min-max"], acc["standardised"]) > acc["raw"] + 0.1
    relu_he, relu_glorot = d["inits"]["relu + He"], d["inits"]["relu + Glorot"]
    assert relu_glorot["spreads"][-1] < 0.1 * relu_glorot["spreads"][0]
    assert relu_he["accuracy"] > relu_glorot["accuracy"]
    probes = [e for e in d["guard"]["divergence_guard"]["events"] if e["kind"] == "probe"]
    assert not probes[0]["ok"] and probes[-1]["ok"]
    assert probes[-1]["learning_rate"] < d["guard_lr"]
    assert d["guard"]["divergence_guard"]["accuracy"] > 0.9


def test_regularization_pruning_lighter_and_faster():
    d = result_of("regularization")["data"]
    for r in d["pruning"].values():
        assert r["parameters"]["after"] < r["parameters"]["before"]
        assert r["flops"]["after"] < r["flops"]["before"]
    for k in ("L1", "L2"):
        assert d["cases"][k]["mean_abs_weight"] < d["cases"]["none"]["mean_abs_weight"]


def test_regularization_strengths_chosen_on_validation_and_gap_narrows():
    d = result_of("regularization")["data"]
    base = d["cases"]["none"]
    assert base["train_accuracy"] >= 0.99 and base["gap"] >= 0.05  # it really overfits
    for k, runs in d["grid"].items():
        chosen = d["cases"][k]
        assert len(runs) >= 2
        assert chosen["val_accuracy"] == max(r["val_accuracy"] for r in runs)
    narrower = [k for k in d["grid"] if d["cases"][k]["gap"] < base["gap"]]
    assert len(narrower) >= 2 and narrower == d["narrower"]
    assert all(d["cases"][k]["test_accuracy"] >= base["test_accuracy"] - 0.02 for k in d["grid"])


def test_same_seed_same_figures():
    a = labs.get("losses").run(quick=True, seed=3, seeds=1, n=100, epochs=100)
    b = labs.get("losses").run(quick=True, seed=3, seeds=1, n=100, epochs=100)
    assert a["table"] == b["table"] and a["seeds"] == [3]


def test_seeds_argument_count_or_list_and_full_mode_default():
    r = labs.get("losses").run(quick=True, seeds=[4, 9], n=100, epochs=50)
    assert r["seeds"] == [4, 9] and r["seed"] == 4
    assert all(c["seeds_needed"] == 2 for c in r["claims"].values())
    assert labs._common._seed_list(False, 7, None) == [7, 8, 9, 10, 11]
    assert labs._common._seed_list(True, 7, None) == [7, 8, 9]
    for bad in (0, [], [1, 1], "x"):
        with pytest.raises(ValueError, match="The 'seeds' parameter of run must be"):
            labs.get("losses").run(quick=True, seeds=bad)


# --- the verdict rule, on made-up figures ----------------------------------------------------

def test_seeds_needed_is_a_clear_majority():
    assert [labs._common.seeds_needed(n) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 2, 3, 4, 4]


def test_claim_holds_on_mean_and_majority():
    c = labs._common.claim_holds([0.2, 0.15, 0.05], ">", 0.1)
    assert c["holds"] and c["holds_on_mean"] and c["seeds_held"] == 2
    assert np.isclose(c["mean"], 0.4 / 3) and c["min"] == 0.05 and c["max"] == 0.2
    assert np.isclose(c["std"], np.std([0.2, 0.15, 0.05]))


def test_claim_fails_on_the_mean_though_most_seeds_pass():
    # 4 of 5 seeds just above, one far below: the mean falls under the threshold
    c = labs._common.claim_holds([0.11, 0.12, 0.11, 0.13, -0.5], ">", 0.1)
    assert c["seeds_held"] == 4 and not c["holds_on_mean"] and not c["holds"]


def test_claim_fails_on_the_majority_though_the_mean_passes():
    # one large seed lifts the mean; only 1 of 3 seeds holds
    c = labs._common.claim_holds([0.3, 0.02, 0.05], ">", 0.1)
    assert c["holds_on_mean"] and c["seeds_held"] == 1 and not c["holds"]
    c = labs._common.claim_holds([0.0, 0.0, 0.0, -1.0, 0.5], "<", 0.0)  # 1 of 5 below
    assert c["holds_on_mean"] and not c["holds"]
    # 3 of 5 is a majority but not a clear one
    c = labs._common.claim_holds([1, 1, 1, 0, 0], ">=", 0.5)
    assert c["holds_on_mean"] and not c["holds"]


def test_claim_rule_rejects_bad_input_and_non_finite_figures():
    with pytest.raises(ValueError, match="The 'op' parameter of claim_holds"):
        labs._common.claim_holds([1.0], "==", 0.0)
    with pytest.raises(ValueError, match="The 'values' parameter of claim_holds"):
        labs._common.claim_holds([], ">", 0.0)
    c = labs._common.claim_holds([float("nan"), 2.0, 3.0], ">", 1.0)
    assert c["seeds_held"] == 2 and not c["holds"]  # a NaN seed spoils the mean


def test_failing_claim_is_reported_with_the_labs_reading(monkeypatch):
    from profond.labs import balancing

    def fake(quick=False, seed=0, **kwargs):
        gain = {0: 0.3, 1: 0.05, 2: 0.02}[seed]
        return labs._common.make_result(
            balancing, quick=quick, seed=seed, seconds=0.0, columns=["a"], rows=[[1]],
            data={}, checks={"class_weight_rescues_rare_classes": labs._common.above(
                gain, 0.1, "gain"), "structural": True},
            verdict=labs._common.bears_out(gain > 0.1) + "one seed's reading.")

    fake.__module__ = balancing.__name__
    r = labs._common.over_seeds(fake)(quick=True)
    assert r["holds"] is False and r["checks"] == {"class_weight_rescues_rare_classes": False,
                                                   "structural": True}
    assert r["verdict"].startswith("The figures do NOT fully bear the claim out over 3 seeds")
    assert "class_weight_rescues_rare_classes (gain): mean 0.123 > 0.100" in r["verdict"]
    assert "on 1 of 3 seeds: FAILS (needs 2 seeds)" in r["verdict"]
    assert "Why class_weight_rescues_rare_classes fails: " + \
        balancing.WHY["class_weight_rescues_rare_classes"] in r["verdict"]
    assert r["verdict"].endswith("On seed 0, shown in the table and plots: one seed's reading.")


def test_run_lab_writes_result_and_images(tmp_path):
    r = labs.run_lab("backprop", quick=True, seed=0, out_dir=tmp_path)
    assert r["images"] and all(os.path.exists(tmp_path / p) for p in r["images"])
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["verdict"] == r["verdict"]
    assert np.isclose(saved["data"]["loss_after"], r["data"]["loss_after"])


def test_layers_cnn_lighter_and_gated_cells_remember():
    d = result_of("layers")["data"]
    img = d["images"]["runs"]
    mlp = max((r for r in img.values() if r["kind"] == "MLP"), key=lambda r: r["test_accuracy"])
    cnn = max((r for r in img.values() if r["kind"] == "CNN"), key=lambda r: r["test_accuracy"])
    assert cnn["test_accuracy"] >= mlp["test_accuracy"] - 0.01
    assert cnn["parameters"] * 5 <= mlp["parameters"]
    mem = d["memory"]["runs"]
    for k in ("GRU", "LSTM"):
        assert mem[k]["long_gap_accuracy"] >= 0.9 and mem[k]["short_accuracy"] >= 0.9
    simple = [r for r in mem.values() if r["cell"] == "SimpleRNN"]
    assert len(simple) == 2 and simple[1]["units"] > simple[0]["units"]  # the widened one
    for r in simple:
        assert r["short_accuracy"] >= 0.9          # a short-term memory...
        assert r["long_gap_accuracy"] < 0.75       # ...but not a long one (chance 0.5)
