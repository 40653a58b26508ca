"""The benchmark scripts measure what they claim to: the book's code, the right FLOP count, the
same results as the libraries they are compared with. (Their timings are for `make bench`.)"""

import importlib.util
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_epoch_counts_one_megaflop_per_example():
    mnist = load("mnist_epoch")
    # chapter 10's exercise: 2B(784*256 + 256*128 + 128*10) forward, the weight gradients the
    # same again, and 2B(128*10 + 256*128) for the input gradients of layers 3 and 2
    assert mnist.epoch_flops(60000, 128) == 1_007_104 * 60000
    assert mnist.epoch_flops(300, 128) == 1_007_104 * 300        # a short last batch counts


def test_the_numpy_epoch_is_chapter_10s_network_and_learns():
    mnist = load("mnist_epoch")
    from byhand.nn import mlp
    assert mnist.loss_and_gradients is mlp.loss_and_gradients    # not a copy
    assert mnist.sgd_momentum is mlp.sgd_momentum
    rng = np.random.default_rng(0)
    X = rng.random((512, 784), dtype=np.float32)                 # (512, 784)
    y = (X[:, :392].sum(axis=1) > X[:, 392:].sum(axis=1)).astype(np.int64)  # learnable
    params = mlp.init_mlp(mnist.SIZES, rng)
    before = float(mlp.loss_and_gradients(params, X, y)[0])
    for _ in range(5):
        mnist.numpy_epoch(params, X, y, rng.permutation(512), batch=64)
    after = float(mlp.loss_and_gradients(params, X, y)[0])
    assert after < 0.5 * before


def test_the_floor_runs_every_product_of_the_epoch():
    mnist = load("mnist_epoch")
    calls = []
    real = np.matmul

    def counting(a, b, out=None):
        calls.append((a.shape, b.shape))
        return real(a, b, out=out)

    rng = np.random.default_rng(1)
    X = rng.random((300, 784), dtype=np.float32)
    params = mnist.init_mlp(mnist.SIZES, rng)
    mnist.np.matmul = counting
    try:
        mnist.floor_epoch(params, X, np.arange(300), batch=128)
    finally:
        mnist.np.matmul = real
    flops = sum(2 * a[0] * a[1] * b[1] for a, b in calls)
    assert len(calls) == 8 * 3 and flops == mnist.epoch_flops(300, 128)


RUN_KEYS = ("threads", "rounds", "numpy_median_s", "torch_median_s", "floor_median_s",
            "numpy_over_torch", "numpy_over_floor", "torch_over_floor", "machine")


def a_run(threads, numpy_s, torch_s, floor_s):
    return dict(threads=threads, rounds=5, batch=128, steps=469, gflop=60.43,
                matmul_peak_gflops=300.0, machine="2 CPUs (a test), Linux", numpy="2.x",
                torch="2.x", numpy_median_s=numpy_s, floor_median_s=floor_s,
                torch_median_s=torch_s, numpy_over_floor=round(numpy_s / floor_s, 3),
                numpy_over_torch=round(numpy_s / torch_s, 3),
                torch_over_floor=round(torch_s / floor_s, 3))


def test_the_results_file_holds_both_runs_and_the_targets(tmp_path):
    mnist = load("mnist_epoch")
    runs = {"default_threads": a_run(2, 0.9, 1.0, 0.5), "one_thread": a_run(1, 1.2, 1.5, 1.0)}
    path = tmp_path / "results" / "mnist_epoch.txt"
    mnist.write_results(path, runs, note="a busy machine " * 12)
    header = [line for line in path.read_text().splitlines() if line.startswith("#")]
    assert all(len(line) <= 100 for line in header) and "# NOTE: a busy" in header[5]
    written = tomllib.loads(path.read_text())
    assert written["default_threads"] == runs["default_threads"]
    assert written["one_thread"]["numpy_over_floor"] == 1.2
    targets = written["targets"]
    assert targets["numpy_over_torch_default_threads"] == mnist.TARGET_TORCH == 0.8
    assert targets["numpy_over_floor_one_thread"] == mnist.TARGET_FLOOR == 1.3
    assert targets["numpy_over_torch_default_threads_met"] is False      # 0.9 > 0.8
    assert targets["numpy_over_floor_one_thread_met"] is True            # 1.2 <= 1.3
    assert written["note"].startswith("a busy machine")


def test_the_committed_results_are_what_chapter_10_reads():
    mnist = load("mnist_epoch")
    written = tomllib.loads((BENCH / "results" / "mnist_epoch.txt").read_text())
    for name in ("default_threads", "one_thread"):
        assert all(key in written[name] for key in RUN_KEYS), name
    assert written["one_thread"]["threads"] == 1
    targets = written["targets"]
    assert targets["numpy_over_torch_default_threads"] == mnist.TARGET_TORCH
    assert targets["numpy_over_floor_one_thread"] == mnist.TARGET_FLOOR
    default, one = written["default_threads"], written["one_thread"]
    assert targets["numpy_over_torch_default_threads_met"] == (
        default["numpy_over_torch"] <= mnist.TARGET_TORCH)
    assert targets["numpy_over_floor_one_thread_met"] == (
        one["numpy_over_floor"] <= mnist.TARGET_FLOOR)


def test_writing_results_needs_pytorch(monkeypatch):
    mnist = load("mnist_epoch")
    monkeypatch.setattr(mnist, "torch", None)
    monkeypatch.setattr(sys, "argv", ["mnist_epoch.py", "--write", "unused.txt"])
    with pytest.raises(SystemExit, match="needs PyTorch"):
        mnist.main()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_softmax_contenders_agree(dtype):
    softmax_bench = load("softmax")
    x = (np.random.default_rng(2).standard_normal((50, 300)) * 10).astype(dtype)
    for name, contenders in softmax_bench.implementations(dtype).items():
        ours = contenders["byhand"](x)
        np.testing.assert_allclose(ours, contenders["scipy"](x), rtol=1e-5, atol=1e-6)
        assert ours.dtype == dtype, name


# ---------------------------------------------------------------- bench/softmax.py's log

SOFTMAX_NAMES = ("logsumexp", "softmax", "log_softmax")
SOFTMAX_RUN_KEYS = ("machine", "numpy", "scipy", "torch", "torch_threads", "rounds", "dtypes")
SOFTMAX_FIGURE_KEYS = tuple(f"over_{other}{end}" for other in ("scipy", "torch", "torch_1",
                                                                "default_buffer")
                            for end in ("", "_min", "_max"))
SOFTMAX_CHAPTERS = ("02_logsumexp", "03_softmax", "04_log_softmax")


def test_the_committed_softmax_log_holds_what_chapters_2_to_4_glue():
    written = tomllib.loads((BENCH / "results" / "softmax.txt").read_text())
    assert isinstance(written["date"], str) and isinstance(written["note"], str)
    run = written["run"]
    assert all(key in run for key in SOFTMAX_RUN_KEYS)
    assert run["dtypes"] == ["float64", "float32"] and run["torch"] != "not installed"
    for dtype in run["dtypes"]:
        for name in SOFTMAX_NAMES:
            figures = written[dtype][name]
            for key in SOFTMAX_FIGURE_KEYS:
                assert isinstance(figures[key], float), (dtype, name, key)
            for other in ("scipy", "torch", "torch_1", "default_buffer"):
                low, high = figures[f"over_{other}_min"], figures[f"over_{other}_max"]
                assert 0 < low <= figures[f"over_{other}"] <= high, (dtype, name, other)


def test_chapters_2_to_4_read_only_keys_the_log_is_checked_for():
    import json
    import re
    chapters = Path(__file__).resolve().parents[1] / "chapters"
    read = set()
    for chapter in SOFTMAX_CHAPTERS:
        cells = json.loads((chapters / f"{chapter}.ipynb").read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert "../bench/results/softmax.txt" in code, chapter
        read |= set(re.findall(r"""["'](over_\w+)["']""", code))
    assert read and read <= set(SOFTMAX_FIGURE_KEYS), read - set(SOFTMAX_FIGURE_KEYS)


def test_the_softmax_log_is_written_as_toml(tmp_path):
    softmax_bench = load("softmax")
    figures = {key: 0.9 for key in SOFTMAX_FIGURE_KEYS} | {"byhand_ms": 1.5,
                                                          "target_met": True}
    results = {dtype: {name: figures for name in SOFTMAX_NAMES}
               for dtype in ("float64", "float32")}
    run = dict(machine="2 CPUs (a test), Linux", numpy="2.x", scipy="1.x", torch="2.x",
               numpy_threads=1, torch_threads=2, rounds=3, repeats=3, shape=[20, 10],
               scale=10.0, dtypes=["float64", "float32"])
    path = tmp_path / "results" / "softmax.txt"
    softmax_bench.write_results(path, run, results, note='a "busy" machine ' * 10)
    header = [line for line in path.read_text().splitlines() if line.startswith("#")]
    assert all(len(line) <= 100 for line in header) and header[-1].startswith("# NOTE:")
    written = tomllib.loads(path.read_text())
    assert written["run"] == run and written["note"].startswith('a "busy" machine')
    assert written["float32"]["log_softmax"] == figures


def test_writing_the_softmax_log_needs_pytorch(monkeypatch):
    softmax_bench = load("softmax")
    monkeypatch.setattr(softmax_bench, "torch", None)
    with pytest.raises(SystemExit, match="needs PyTorch"):
        softmax_bench.main(["--write", "unused.txt"])


def test_the_default_buffer_contender_skips_row_buffer(monkeypatch):
    softmax_bench = load("softmax")
    sizes = []
    real = np.setbufsize
    monkeypatch.setattr(np, "setbufsize", lambda size: sizes.append(size) or real(size))
    x = np.random.default_rng(3).standard_normal((4, 1000))
    for name, contenders in softmax_bench.implementations().items():
        sizes.clear()
        ours = contenders["byhand"](x)
        assert 1008 in sizes, name                      # one row per inner loop
        sizes.clear()
        assert np.array_equal(contenders["default_buffer"](x), ours), name
        assert 1008 not in sizes, name
        assert np.getbufsize() == 8192
