"""byhand.engine, the reverse-mode engine of chapter 9: every operation's VJP against centered
differences, un-broadcasting as the adjoint of broadcasting, the topological order, accumulation
at a node used twice, and the engine's gradients against the hand-written layers of byhand.nn."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from byhand import nn
from byhand.engine import Tensor, topological_order, unbroadcast
from byhand.gradcheck import gradcheck, relative_error

rng = np.random.default_rng(0)


def engine_check(build, *arrays, upstream=None, tol=1e-7):
    """gradcheck every input of build(*Tensors) against centered differences."""
    leaves = [Tensor(a) for a in arrays]
    out = build(*leaves)
    if upstream is None and out.shape:
        upstream = rng.normal(size=out.shape)
    out.backward(upstream)
    for i, (a, leaf) in enumerate(zip(arrays, leaves)):
        def f(x, i=i):
            args = [Tensor(b) for b in arrays]
            args[i] = Tensor(x)
            return build(*args).data
        gradcheck(f, np.array(a, dtype=float), leaf.grad, upstream=upstream, tol=tol)
    return [leaf.grad for leaf in leaves]


# ---------------------------------------------------------------- un-broadcasting

SHAPES = [((4, 5), (5,)), ((4, 5), (1, 5)), ((4, 5), (4, 1)), ((4, 5), ()), ((4, 5), (1, 1)),
          ((4, 5), (4, 5)), ((2, 3, 4), (3, 1)), ((2, 3, 4), (1, 3, 1)), ((2, 3, 4), (4,))]


@pytest.mark.parametrize("big, small", SHAPES)
def test_unbroadcast_is_the_adjoint_of_broadcasting(big, small):
    """<unbroadcast(g), v> = <g, broadcast(v)> for all g, v: the defining property of a VJP."""
    g, v = rng.normal(size=big), rng.normal(size=small)
    lhs = np.sum(unbroadcast(g, small) * v)
    rhs = np.sum(g * np.broadcast_to(v, big))
    assert unbroadcast(g, small).shape == small
    assert np.isclose(lhs, rhs, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=0, max_size=3),
       st.lists(st.booleans(), min_size=3, max_size=3), st.integers(0, 2))
def test_unbroadcast_property(dims, ones, extra):
    small = tuple(1 if one else d for d, one in zip(dims, ones))
    big = tuple(range(2, 2 + extra)) + tuple(dims)
    g = np.random.default_rng(len(big)).normal(size=big)
    out = unbroadcast(g, small)
    assert out.shape == small
    assert np.isclose(out.sum(), g.sum())                    # mass is kept
    v = np.ones(small)
    assert np.isclose(np.sum(out * v), np.sum(g * np.broadcast_to(v, big)))


def test_unbroadcast_keeps_dtype_and_the_bias_rule():
    g = rng.normal(size=(6, 3)).astype(np.float32)
    assert unbroadcast(g, (3,)).dtype == np.float32
    assert np.allclose(unbroadcast(g, (3,)), g.sum(axis=0))


# ---------------------------------------------------------------- topological order

def test_topological_order_puts_parents_first_and_lists_each_node_once():
    x = Tensor(rng.normal(size=3))
    u = x.tanh()
    y = (u + u * 3.0 + x * x).sum()
    order = topological_order(y)
    assert order[-1] is y and len(order) == len(set(order))
    position = {t: i for i, t in enumerate(order)}
    assert all(position[p] < position[t] for t in order for p in t.parents)
    assert x in position and u in position


def test_topological_order_has_no_recursion_limit():
    x = chain = Tensor(0.5)
    for _ in range(50_000):
        chain = chain.tanh()
    order = topological_order(chain)
    assert len(order) == 50_001 and order[0] is x
    chain.backward()
    expected, t = 1.0, 0.5
    for _ in range(50_000):                                   # d tanh^n / dx by hand
        t = np.tanh(t)
        expected *= 1 - t**2
    assert np.isclose(x.grad, expected, rtol=1e-9)


# ---------------------------------------------------------------- accumulation

def test_a_node_used_twice_accumulates():
    x = Tensor([3.0, -1.0])
    y = (x * x).sum()
    y.backward()
    assert np.array_equal(x.grad, [6.0, -2.0])


def test_assigning_instead_of_accumulating_would_be_wrong():
    """The demonstration of the chapter: the same loop with `=` keeps one share only."""
    x = Tensor([3.0])
    y = x * x
    order = topological_order(y)
    for node in order:
        node.grad = np.zeros_like(node.data)
    y.grad = np.ones_like(y.data)
    for node in reversed(order):
        if node.vjp is not None:
            for parent, g in zip(node.parents, node.vjp(node.grad)):
                parent.grad = g
    assert np.allclose(x.grad, 3.0)
    y.backward()
    assert np.allclose(x.grad, 6.0)


def test_backward_restarts_from_zero_and_takes_an_upstream():
    x = Tensor(rng.normal(size=(2, 3)))
    y = x.tanh()
    g = rng.normal(size=(2, 3))
    y.backward(g)
    first = x.grad.copy()
    y.backward(g)
    assert np.array_equal(x.grad, first)                      # not doubled
    assert np.allclose(first, g * (1 - np.tanh(x.data) ** 2))
    y.backward()                                              # default: ones
    assert np.allclose(x.grad, 1 - np.tanh(x.data) ** 2)


# ---------------------------------------------------------------- every operation

A34, B34, C3 = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=4)
POS = rng.uniform(0.5, 2.0, size=(3, 4))


@pytest.mark.parametrize("name, build, arrays", [
    ("add", lambda a, b: a + b, (A34, B34)),
    ("add broadcast row", lambda a, b: a + b, (A34, C3)),
    ("add broadcast column", lambda a, b: a + b, (A34, rng.normal(size=(3, 1)))),
    ("sub broadcast", lambda a, b: a - b, (A34, C3)),
    ("rsub", lambda a: 2.0 - a, (A34,)),
    ("radd, rmul", lambda a: 2.0 + 3.0 * a, (A34,)),
    ("neg", lambda a: -a, (A34,)),
    ("mul", lambda a, b: a * b, (A34, B34)),
    ("mul broadcast", lambda a, b: a * b, (A34, C3)),
    ("mul outer", lambda a, b: a * b, (rng.normal(size=(3, 1)), rng.normal(size=(1, 4)))),
    ("matmul", lambda a, b: a @ b, (A34, rng.normal(size=(4, 5)))),
    ("exp", lambda a: a.exp(), (A34,)),
    ("log", lambda a: a.log(), (POS,)),
    ("tanh", lambda a: a.tanh(), (A34,)),
    ("relu", lambda a: a.relu(), (A34,)),
    ("sum all", lambda a: a.sum(), (A34,)),
    ("sum axis 0", lambda a: a.sum(axis=0), (A34,)),
    ("sum axis 1 keepdims", lambda a: a.sum(axis=1, keepdims=True), (A34,)),
    ("mean", lambda a: a.mean(), (A34,)),
    ("mean axis 0", lambda a: a.mean(axis=0), (A34,)),
    ("log_softmax", lambda a: a.log_softmax(), (A34,)),
    ("log_softmax axis 0", lambda a: a.log_softmax(axis=0), (A34,)),
    ("pick", lambda a: a.pick([0, 3, 1]), (A34,)),
    ("x used four times", lambda a: ((a * a).tanh() * a.exp() - a.log()).sum(), (POS,)),
])
def test_every_operation_passes_a_gradient_check(name, build, arrays):
    assert np.min(np.abs(A34)) > 1e-4                         # relu away from its kink
    engine_check(build, *arrays)


def test_values_match_numpy():
    a = Tensor(A34)
    assert np.allclose((a @ Tensor(A34.T)).data, A34 @ A34.T)
    assert np.allclose(a.log_softmax().data, nn.log_softmax(A34))
    assert np.allclose(a.pick([0, 3, 1]).data, A34[[0, 1, 2], [0, 3, 1]])
    assert np.isclose(a.mean().data, A34.mean())


def test_data_is_a_float64_copy():
    raw = np.array([1, 2, 3])
    t = Tensor(raw)
    assert t.data.dtype == np.float64
    t.data[0] = 9
    assert raw[0] == 1
    assert "shape=(3,)" in repr(t)


def test_log_softmax_is_stable_for_large_logits():
    z = Tensor([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]])
    with np.errstate(all="raise"):
        loss = -z.log_softmax().pick([1, 0]).mean()
        loss.backward()
    assert np.all(np.isfinite(z.grad))
    assert np.allclose(z.grad.sum(axis=1), 0)


def test_matmul_refuses_non_matrices():
    with pytest.raises(ValueError, match="2-D"):
        Tensor(np.ones(3)) @ Tensor(np.ones((3, 2)))


# ---------------------------------------------------------------- against byhand.nn

N, D, H, K = 6, 4, 5, 3
X = rng.normal(size=(N, D))
W1, b1 = rng.normal(size=(D, H)) / 2, rng.normal(size=H)
W2, b2 = rng.normal(size=(H, K)) / 2, rng.normal(size=K)
Wr, c1, c2 = rng.normal(size=(D, D)) / 2, rng.normal(size=D), rng.normal(size=D)
LABELS = rng.integers(0, K, size=N)
Z = rng.normal(size=(N, K))


def grads(build, arrays, upstream=None):
    leaves = [Tensor(a) for a in arrays]
    build(*leaves).backward(upstream)
    return [t.grad for t in leaves]


def close(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == np.shape(w) and relative_error(g, np.asarray(w)) < 1e-10


def test_linear_matches_linear_backward():
    G = rng.normal(size=(N, H))
    close(grads(lambda X, W, b: X @ W + b, [X, W1, b1], G),
          nn.linear_backward(G, nn.linear_forward(X, W1, b1)[1]))


@pytest.mark.parametrize("build, forward, backward", [
    (lambda t: t.relu(), nn.relu_forward, nn.relu_backward),
    (lambda t: t.tanh(), nn.tanh_forward, nn.tanh_backward),
    (lambda t: (t * 0.5).tanh() * 0.5 + 0.5, nn.sigmoid_forward, nn.sigmoid_backward),
], ids=["relu", "tanh", "sigmoid"])
def test_activations_match(build, forward, backward):
    G = rng.normal(size=X.shape)
    close(grads(build, [X], G), [backward(G, forward(X)[1])])
    assert np.allclose(build(Tensor(X)).data, forward(X)[0])


def test_softmax_and_log_softmax_match():
    G = rng.normal(size=Z.shape)
    close(grads(lambda t: t.log_softmax().exp(), [Z], G), [nn.softmax_backward(G, nn.softmax(Z))])
    close(grads(lambda t: t.log_softmax(), [Z], G),
          [nn.log_softmax_backward(G, nn.log_softmax(Z))])


@pytest.mark.parametrize("targets", ["labels", "one-hot"])
def test_softmax_cross_entropy_matches(targets):
    T = np.eye(K)[LABELS]
    if targets == "labels":
        build = lambda t: -t.log_softmax().pick(LABELS).mean()
    else:
        build = lambda t: -(t.log_softmax() * T).sum() * (1.0 / N)
    loss, cache = nn.softmax_cross_entropy_forward(Z, LABELS)
    assert np.isclose(build(Tensor(Z)).data, loss)
    close(grads(build, [Z]), [nn.softmax_cross_entropy_backward(1.0, cache)])
    assert np.isclose(-Tensor(nn.log_softmax(Z)).pick(LABELS).mean().data,
                      nn.nll_loss(nn.log_softmax(Z), LABELS))


def test_residual_block_matches():
    G = rng.normal(size=X.shape)
    close(grads(lambda X, W, a, b: X + (X @ W + a).relu() + b, [X, Wr, c1, c2], G),
          nn.residual_backward(G, nn.residual_forward(X, Wr, c1, c2)[1]))


def test_two_layer_mlp_matches_and_passes_a_gradient_check():
    def mlp(X, W1, b1, W2, b2):
        return -((X @ W1 + b1).relu() @ W2 + b2).log_softmax().pick(LABELS).mean()

    A1, k1 = nn.linear_forward(X, W1, b1)
    R, k2 = nn.relu_forward(A1)
    S, k3 = nn.linear_forward(R, W2, b2)
    _, k4 = nn.softmax_cross_entropy_forward(S, LABELS)
    dR, dW2, db2 = nn.linear_backward(nn.softmax_cross_entropy_backward(1.0, k4), k3)
    dX, dW1, db1 = nn.linear_backward(nn.relu_backward(dR, k2), k1)
    close(grads(mlp, [X, W1, b1, W2, b2]), [dX, dW1, db1, dW2, db2])
    assert np.min(np.abs(A1)) > 1e-4
    engine_check(mlp, X, W1, b1, W2, b2, tol=1e-6)    # some entries ~1e-5: FD noise


def test_a_wrong_vjp_is_caught_by_these_tests():
    """The tests can fail: a matmul VJP without its transpose fails the gradient check."""
    a, b = Tensor(A34), Tensor(rng.normal(size=(4, 4)))
    out = a @ b
    out.vjp = lambda g: (g @ b.data, a.data.T @ g)          # dA without B's transpose
    with pytest.raises(AssertionError):
        out.backward(rng.normal(size=(3, 4)))
        gradcheck(lambda x: x @ b.data, A34.copy(), a.grad, upstream=out.grad)
