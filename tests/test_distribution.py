"""profond.distribution: data-parallel fit over MPI ranks, and sweeps spread over them.

The tests that need MPI launch ``mpiexec -n 2`` on loopback (tests/_distribution_script.py)
and are skipped where mpi4py or mpiexec is absent; the others run in this process (one rank).
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import profond
from profond import distribution, layers, ops
from profond.callbacks import latest_checkpoint, load_checkpoint
from profond.distribution.data_parallel import Replica

HERE = Path(__file__).parent
SCRIPT = HERE / "_distribution_script.py"


def _script():
    spec = importlib.util.spec_from_file_location("_distribution_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mpiexec():
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _mpi_available():
    return importlib.util.find_spec("mpi4py") is not None and _mpiexec() is not None


needs_mpi = pytest.mark.skipif(not _mpi_available(), reason="needs mpi4py and mpiexec "
                               "(pip install 'profond[mpi]')")


def _launch(mode, folder, epochs, timeout=120):
    """``mpiexec -n 2 python _distribution_script.py MODE FOLDER EPOCHS`` on loopback."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(profond.__file__).parents[1])] + sys.path), OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for name in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE"):  # not nested in a launch
        env.pop(name, None)
    return subprocess.run([_mpiexec(), "-n", "2", sys.executable, str(SCRIPT), mode,
                           str(folder), str(epochs)], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _result(path):
    """What the script's rank 0 wrote, read at once (the next launch overwrites the file)."""
    with np.load(path) as saved:
        return dict(saved)


def _weights(result, rank):
    return [result[f"w{rank}_{i}"] for i in range(sum(k.startswith(f"w{rank}_")
                                                      for k in result))]


# --- one process ------------------------------------------------------------------------------
def test_one_process_is_rank_0_of_1_and_needs_no_mpi4py():
    assert (distribution.rank(), distribution.size(), distribution.is_primary()) == (0, 1, True)
    assert distribution.distribution() is None
    code = ("import sys; sys.modules['mpi4py'] = None; import profond; "
            "from profond import distribution as d; print(d.size(), 'mpi4py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         env=dict(os.environ, PYTHONPATH=str(Path(profond.__file__).parents[1])))
    assert out.stdout.split() == ["1", "True"], out.stderr  # None: blocked, never imported


@pytest.mark.parametrize("kwargs, param", [({"device_mesh": (2,)}, "device_mesh"),
                                           ({"devices": ["cpu:0", "cpu:1"]}, "devices"),
                                           ({"auto_shard_dataset": 1}, "auto_shard_dataset"),
                                           ({"timeout": 0}, "timeout"),
                                           ({"bucket_cap_mb": -1}, "bucket_cap_mb")])
def test_data_parallel_checks_its_arguments(kwargs, param):
    with pytest.raises(ValueError, match=f"The '{param}' parameter of DataParallel"):
        distribution.DataParallel(**kwargs)


def test_set_distribution_takes_a_data_parallel_or_none():
    with pytest.raises(ValueError, match="The 'value' parameter of set_distribution"):
        distribution.set_distribution("data")


def test_data_parallel_on_one_rank_is_fit_itself():
    script = _script()
    x, y, _, _ = script.data()
    runs = []
    for strategy in (None, distribution.DataParallel()):
        distribution.set_distribution(strategy)
        try:
            with profond.random.preserved():
                profond.random.seed(3)
                model = script.build(dropout=True)
                model.fit(x, y, batch_size=32, epochs=2, verbose=0)
                runs.append(model.get_weights())
        finally:
            distribution.set_distribution(None)
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_map_in_one_process_is_the_list_and_leaves_the_stream_alone():
    profond.random.seed(0)
    expected = profond.random.generator().standard_normal(2)
    profond.random.seed(0)
    got = distribution.map(lambda p: float(profond.random.generator().standard_normal()) + p,
                           [0, 1, 2])
    assert len(got) == 3
    np.testing.assert_array_equal(profond.random.generator().standard_normal(2), expected)
    with pytest.raises(ValueError, match="The 'fn' parameter of map must be callable"):
        distribution.map(3, [1])


def test_synchronised_batch_norm_is_the_whole_batch_split_in_two():
    """Two threads play two replicas: each normalises half the batch, summing the statistics
    through a barrier; outputs, statistics and input gradients are those of the whole batch,
    and the halves' gamma and beta gradients add up to the whole's."""
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(10, 4)).astype("float32")
    g = rng.normal(size=(10, 4)).astype("float32")
    gamma0, beta0 = rng.normal(size=4).astype("float32"), rng.normal(size=4).astype("float32")

    def run(rows):
        xt = profond.tensor(x[rows], requires_grad=True)
        gamma, beta = profond.tensor(gamma0, requires_grad=True), \
            profond.tensor(beta0, requires_grad=True)
        out, mean, var = ops.batch_norm_train(xt, gamma, beta)
        out.backward(g[rows])
        return out.numpy(), mean, var, xt.grad, gamma.grad, beta.grad

    whole = run(slice(None))
    barrier, slots, local = threading.Barrier(2), [None, None], threading.local()

    def sum_in_place(buffer):
        slots[local.index] = buffer.copy()
        barrier.wait()
        total = slots[0] + slots[1]
        barrier.wait()
        buffer[...] = total

    halves = [None, None]

    def replica(index, rows):
        local.index = index
        halves[index] = run(rows)

    with ops.normalization.summed_over_replicas(sum_in_place):
        threads = [threading.Thread(target=replica, args=(i, rows))
                   for i, rows in enumerate((slice(0, 6), slice(6, None)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    (o0, m0, v0, gx0, gg0, gb0), (o1, m1, v1, gx1, gg1, gb1) = halves
    tol = {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(np.concatenate([o0, o1]), whole[0], **tol)
    for m, v in ((m0, v0), (m1, v1)):
        np.testing.assert_allclose(m, whole[1], **tol)
        np.testing.assert_allclose(v, whole[2], **tol)
    np.testing.assert_allclose(np.concatenate([gx0, gx1]), whole[3], **tol)
    np.testing.assert_allclose(gg0 + gg1, whole[4], **tol)
    np.testing.assert_allclose(gb0 + gb1, whole[5], **tol)


def test_gradient_buckets_hold_a_few_large_messages():
    model = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    replica = Replica(distribution.DataParallel(bucket_cap_mb=24 / 2 ** 20), model)  # 6 floats
    grads = [np.zeros((2, 2), "float32"), None, np.zeros(2, "float32"),
             np.zeros(10, "float32"), np.zeros(3, "float64")]
    buckets = replica._plan(grads)
    assert [[e[0] for e in entries] for _, entries in buckets] == [[0, 2], [3], [4]]
    assert [b.dtype.name for b, _ in buckets] == ["float32", "float32", "float64"]


# --- two ranks (mpiexec -n 2) --------------------------------------------------------------------
@needs_mpi
def test_two_ranks_reach_one_ranks_weights_and_rank_0_alone_writes(tmp_path):
    folder = tmp_path / "run"
    out = _launch("train", folder, 4)
    assert out.returncode == 0, out.stderr
    result = _result(tmp_path / "result-train.npz")
    rank0, rank1 = _weights(result, 0), _weights(result, 1)
    for a, b in zip(rank0, rank1):  # the ranks hold one model
        np.testing.assert_array_equal(a, b)
    with profond.random.preserved():
        alone = _script().train(tmp_path / "alone", 4)
    # The same global batches; only the order of float32 sums differs.
    for a, b in zip(rank0, alone):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert len(result["writes0"]) > 0 and list(result["writes1"]) == []
    assert sorted(os.listdir(folder)) == [f"ckpt-0{e}.safetensors" for e in (1, 2, 3, 4)] + \
        ["history.csv"]
    rows = (folder / "history.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,") and [r.split(",")[0] for r in rows[1:]] == \
        ["0", "1", "2", "3"]


@needs_mpi
def test_a_two_rank_run_resumes_bit_for_bit_and_on_one_rank(tmp_path):
    assert _launch("train-dropout", tmp_path / "whole", 4).returncode == 0
    whole = _result(tmp_path / "result-train-dropout.npz")
    out = _launch("train-dropout", tmp_path / "cut", 2)
    assert out.returncode == 0, out.stderr
    shutil.copytree(tmp_path / "cut", tmp_path / "elsewhere")
    out = _launch("resume", tmp_path / "cut", 4)
    assert out.returncode == 0, out.stderr
    resumed = _result(tmp_path / "result-resume.npz")
    for a, b in zip(_weights(whole, 0), _weights(resumed, 0)):
        np.testing.assert_array_equal(a, b)
    # The two ranks' checkpoint on one rank: the run goes on from epoch 2.
    with profond.random.preserved():
        weights = _script().resume(tmp_path / "elsewhere", 4)
    assert all(np.isfinite(w).all() for w in weights)
    rows = (tmp_path / "elsewhere" / "history.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["0", "1", "2", "3"]


@needs_mpi
def test_a_rank_that_raises_stops_the_other_and_the_last_checkpoint_loads(tmp_path):
    out = _launch("die", tmp_path / "run", 4, timeout=60)
    assert out.returncode != 0
    assert "rank 1 of 2 stopped on RuntimeError: rank 1 fails on purpose" in out.stderr
    # Rank 1 failed when its third epoch began: rank 0 had written the first checkpoint, and
    # may have been killed while writing the second (an atomic write: whole, or not there).
    path = latest_checkpoint(tmp_path / "run")
    assert os.path.basename(path) in ("ckpt-01.safetensors", "ckpt-02.safetensors")
    with profond.random.preserved():
        _, initial_epoch, past = load_checkpoint(path)
    assert initial_epoch == len(past["loss"]) in (1, 2)


@needs_mpi
def test_a_rank_that_leaves_quietly_stops_the_other_after_the_timeout(tmp_path):
    out = _launch("leave", tmp_path / "run", 4, timeout=60)
    assert out.returncode != 0
    assert "rank 0 of 2 waited 5 s (the timeout) for the other ranks" in out.stderr


@needs_mpi
def test_map_over_two_ranks_gives_the_serial_results_and_own_data_trains(tmp_path):
    out = _launch("map", tmp_path / "run", 0)
    assert out.returncode == 0, out.stderr
    spread = _result(tmp_path / "result-map.npz")
    script = _script()
    with profond.random.preserved():
        serial = [script.sweep_point(w) for w in (2, 3, 5, 8, 13)]
        lab = script.small_lab()
    np.testing.assert_array_equal(spread["losses"], serial)
    np.testing.assert_array_equal(spread["grid"], np.asarray(lab["data"]["grid"]))
    # Each rank's own data (auto_shard_dataset=False): the ranks still hold one model.
    for a, b in zip(_weights(spread, 0), _weights(spread, 1)):
        np.testing.assert_array_equal(a, b)


@needs_mpi
def test_profond_train_under_mpiexec_trains_on_two_ranks_and_rank_0_reports(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(Path(profond.__file__).parents[1]),
               OMP_NUM_THREADS="1")
    code = "import sys; from profond.cli.main import main; sys.exit(main())"
    out = subprocess.run([_mpiexec(), "-n", "2", sys.executable, "-c", code, "train", "--out",
                          str(tmp_path / "run"), "--epochs", "2", "--quiet"], env=env,
                         capture_output=True, text=True, timeout=180, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("run folder:") == 1  # one report, rank 0's
    assert sorted(os.listdir(tmp_path)) == ["run"]
    assert {"checkpoint.safetensors", "history.csv", "model.safetensors", "recipe.json",
            "results.json"} <= set(os.listdir(tmp_path / "run"))
