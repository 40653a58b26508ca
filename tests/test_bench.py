"""The benchmark scripts measure what they claim to: the book's code, the right FLOP count, the
same results as the libraries they are compared with. (Their timings are for `make bench`.)"""

import importlib.util
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_softmax_contenders_agree(dtype):
    softmax_bench = load("softmax")
    x = (np.random.default_rng(2).standard_normal((50, 300)) * 10).astype(dtype)
    for name, contenders in softmax_bench.implementations(dtype).items():
        ours = contenders["byhand"](x)
        np.testing.assert_allclose(ours, contenders["scipy"](x), rtol=1e-5, atol=1e-6)
        assert ours.dtype == dtype, name
