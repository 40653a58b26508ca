"""The catalogue of chapter 10's exercise checks: right answers (several ways) pass, classic
wrong answers fail with a message naming the problem, NaN-poisoned answers fail."""

import numpy as np
import pytest

from byhand import check
from byhand.check import CheckFailed
from byhand.data import read_idx
from byhand.nn import (linear_backward, linear_forward, relu_backward, relu_forward,
                       softmax_cross_entropy_backward, softmax_cross_entropy_forward)
from catalogue import assert_short, register

# ---------------------------------------------------------------- task 1: parse_idx


def idx_loop(data):
    """Right, byte by byte with int.from_bytes and no NumPy header parsing."""
    if len(data) < 4 or data[0] or data[1] or data[2] not in (0x08, 0x0C):
        raise ValueError("magic")
    ndim, size = data[3], {0x08: 1, 0x0C: 4}[data[2]]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    count = int(np.prod(dims))
    body = data[4 + 4 * ndim:]
    if len(body) != count * size or len(data) < 4 + 4 * ndim:
        raise ValueError("length")
    values = [int.from_bytes(body[i * size:(i + 1) * size], "big", signed=size == 4)
              for i in range(count)]
    return np.array(values, dtype=np.uint8 if size == 1 else np.int32).reshape(dims)


def idx_little_endian_sizes(data):
    ndim = data[3]
    dims = np.frombuffer(data, "<u4", count=ndim, offset=4)
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def idx_no_header_skip(data):
    ndim = data[3]
    dims = tuple(np.frombuffer(data, ">u4", count=ndim, offset=4))
    n = int(np.prod(dims))
    return np.frombuffer(data, np.uint8, count=n, offset=4).reshape(dims).copy()


def idx_native_int32(data):
    ndim = data[3]
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.uint8 if data[2] == 0x08 else np.int32          # machine order: wrong
    return np.frombuffer(data, dtype, offset=4 + 4 * ndim).reshape(dims)


def idx_flat(data):
    return read_idx(data).ravel()


def idx_trusting(data):
    """Right on good files, but never checks anything: accepts damaged ones."""
    ndim = data[3]
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = {0x08: ">u1", 0x0C: ">i4"}.get(data[2], ">u1")
    n = int(np.prod(dims))
    values = np.frombuffer(data[4 + 4 * ndim:].ljust(n * np.dtype(dtype).itemsize, b"\0"),
                           dtype, count=n)
    return values.reshape(dims).astype(np.dtype(dtype).newbyteorder("="))


def idx_float(data):
    return read_idx(data).astype(np.float64)


def idx_nan(data):
    out = read_idx(data).astype(np.float64)
    out.flat[0] = np.nan
    return out


# ---------------------------------------------------------------- task 2: mlp_forward


def forward_numpy(params, X):  # right, plain NumPy
    H = X
    for i in range(0, len(params) - 2, 2):
        H = np.maximum(H @ params[i] + params[i + 1], 0)
    return H @ params[-2] + params[-1]


def forward_recursive(params, X):  # right: the last layer first, recursively
    if len(params) == 2:
        return np.einsum("nd,dh->nh", X, params[0]) + params[1]
    hidden = np.maximum(np.einsum("nd,dh->nh", X, params[0]) + params[1], 0)
    return forward_recursive(params[2:], hidden)


def forward_relu_last(params, X):
    H = X
    for i in range(0, len(params), 2):
        H = np.maximum(H @ params[i] + params[i + 1], 0)
    return H


def forward_softmax(params, X):
    z = forward_numpy(params, X)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward_no_bias(params, X):
    H = X
    for i in range(0, len(params) - 2, 2):
        H = np.maximum(H @ params[i], 0)
    return H @ params[-2]


def forward_transposed(params, X):
    H = X
    for i in range(0, len(params) - 2, 2):
        H = np.maximum(H @ params[i].T + params[i + 1], 0)
    return H @ params[-2].T + params[-1]


def forward_three_layers_only(params, X):  # hard-codes 3 layers: fails other depths
    W1, b1, W2, b2, W3, b3 = params
    return forward_numpy([W1, b1, W2, b2, W3, b3], X)


def forward_float64(params, X):
    return forward_numpy([p.astype(np.float64) for p in params], X.astype(np.float64))


def forward_nan(params, X):
    out = forward_numpy(params, X)
    out[0, 0] = np.nan
    return out


# ---------------------------------------------------------------- task 3: accuracy


def accuracy_loop(logits, labels):
    right = 0
    for row, label in zip(logits, labels):
        right += max(range(len(row)), key=lambda k: row[k]) == label
    return right / len(labels)


def accuracy_via_softmax(logits, labels):  # right: the softmax does not move the argmax
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.mean(p.argmax(axis=1) == labels)


# ---------------------------------------------------------------- task 4: train_step


def gradients(params, X, y, upstream=1.0):
    caches, H = [], X
    for i in range(0, len(params), 2):
        H, cache = linear_forward(H, params[i], params[i + 1])
        caches.append(cache)
        if i + 2 < len(params):
            H, cache = relu_forward(H)
            caches.append(cache)
    loss, ce = softmax_cross_entropy_forward(H, y)
    d = softmax_cross_entropy_backward(upstream, ce)
    grads = [None] * len(params)
    for i in reversed(range(0, len(params), 2)):
        if i + 2 < len(params):
            d = relu_backward(d, caches.pop())
        d, grads[i], grads[i + 1] = linear_backward(d, caches.pop())
    return loss, grads


def step_right(params, velocities, X, y, lr, momentum):
    loss, grads = gradients(params, X, y)
    for p, v, g in zip(params, velocities, grads):
        v *= momentum
        v += g
        p -= lr * v
    return loss


def step_numpy(params, velocities, X, y, lr, momentum):
    """Right, by hand without byhand.nn: forward, (P - T)/N, backward with masks."""
    Hs = [X]
    for i in range(0, len(params), 2):
        A = Hs[-1] @ params[i] + params[i + 1]
        Hs.append(np.maximum(A, 0) if i + 2 < len(params) else A)
    z = Hs[-1] - Hs[-1].max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    n = len(y)
    loss = -logp[np.arange(n), y].mean()
    d = np.exp(logp)
    d[np.arange(n), y] -= 1
    d /= n
    grads = [None] * len(params)
    for i in reversed(range(0, len(params), 2)):
        grads[i], grads[i + 1] = Hs[i // 2].T @ d, d.sum(axis=0)
        d = (d @ params[i].T) * (Hs[i // 2] > 0)
    for p, v, g in zip(params, velocities, grads):
        v[...] = momentum * v + g
        p[...] = p - lr * v
    return loss


def step_rebinding(params, velocities, X, y, lr, momentum):
    loss, grads = gradients(params, X, y)
    for i, (p, v, g) in enumerate(zip(params, velocities, grads)):
        velocities[i] = momentum * v + g        # new arrays, put into the caller's lists
        params[i] = p - lr * velocities[i]
    return loss


def step_copies(params, velocities, X, y, lr, momentum):
    params, velocities = [p.copy() for p in params], [v.copy() for v in velocities]
    return step_right(params, velocities, X, y, lr, momentum)


def step_summed(params, velocities, X, y, lr, momentum):
    loss, grads = gradients(params, X, y, upstream=len(y))    # gradient of the sum
    for p, v, g in zip(params, velocities, grads):
        v *= momentum
        v += g
        p -= lr * v
    return loss * len(y)


def step_summed_gradient_only(params, velocities, X, y, lr, momentum):
    loss, grads = gradients(params, X, y, upstream=len(y))
    for p, v, g in zip(params, velocities, grads):
        v *= momentum
        v += g
        p -= lr * v
    return loss


def step_lr_in_velocity(params, velocities, X, y, lr, momentum):
    loss, grads = gradients(params, X, y)
    for p, v, g in zip(params, velocities, grads):
        v *= momentum
        v += lr * g
        p -= v
    return loss


def step_no_momentum(params, velocities, X, y, lr, momentum):
    loss, grads = gradients(params, X, y)
    for p, v, g in zip(params, velocities, grads):
        v[...] = g
        p -= lr * g
    return loss


def step_plus(params, velocities, X, y, lr, momentum):   # gradient ascent
    loss, grads = gradients(params, X, y)
    for p, v, g in zip(params, velocities, grads):
        v *= momentum
        v += g
        p += lr * v
    return loss


def step_loss_sign_flipped(params, velocities, X, y, lr, momentum):  # the loss +mean log p_y
    loss, grads = gradients(params, X, y, upstream=-1.0)     # ... and its gradient
    for p, v, g in zip(params, velocities, grads):
        v *= momentum
        v += g
        p -= lr * v
    return -loss


def step_gradient_sign_flipped(params, velocities, X, y, lr, momentum):  # (t - p) / N
    loss, grads = gradients(params, X, y, upstream=-1.0)
    for p, v, g in zip(params, velocities, grads):
        v *= momentum
        v += g
        p -= lr * v
    return loss


def step_classic_momentum(params, velocities, X, y, lr, momentum):  # v = mu v - lr g; p += v
    loss, grads = gradients(params, X, y)
    for p, v, g in zip(params, velocities, grads):
        v *= momentum
        v -= lr * g
        p += v
    return loss


def step_no_relu_mask(params, velocities, X, y, lr, momentum):
    """The backward pass goes straight through each ReLU, as if its Jacobian were I."""
    Hs = [X]
    for i in range(0, len(params), 2):
        A = Hs[-1] @ params[i] + params[i + 1]
        Hs.append(np.maximum(A, 0) if i + 2 < len(params) else A)
    loss, ce = softmax_cross_entropy_forward(Hs[-1], y)
    d = softmax_cross_entropy_backward(1.0, ce)
    grads = [None] * len(params)
    for i in reversed(range(0, len(params), 2)):
        grads[i], grads[i + 1] = Hs[i // 2].T @ d, d.sum(axis=0)
        d = d @ params[i].T                       # no (A > 0) mask
    for p, v, g in zip(params, velocities, grads):
        v *= momentum
        v += g
        p -= lr * v
    return loss


def step_loss_after(params, velocities, X, y, lr, momentum):
    step_right(params, velocities, X, y, lr, momentum)
    return gradients(params, X, y)[0]


def step_nan(params, velocities, X, y, lr, momentum):
    loss = step_right(params, velocities, X, y, lr, momentum)
    params[0][0, 0] = np.nan
    return loss


# ---------------------------------------------------------------- task 5: train_mlp


def init(sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params += [(rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32),
                   np.zeros(b, np.float32)]
    return params


def train_right(X, y):
    """Right: 784-128-10 (one hidden layer, small enough to train in a few seconds; about
    97.5% on the test digits), three epochs of momentum SGD, cosine schedule."""
    rng = np.random.default_rng(0)
    params = init((784, 128, 10))
    velocities = [np.zeros_like(p) for p in params]
    steps, t = 3 * -(-len(X) // 128), 0
    for _ in range(3):
        order = rng.permutation(len(X))
        for start in range(0, len(X), 128):
            idx = order[start:start + 128]
            lr = np.float32(0.05 * (1 + np.cos(np.pi * t / steps)))
            step_right(params, velocities, X[idx], y[idx], lr, np.float32(0.9))
            t += 1
    return params


def train_nothing(X, y):
    return init((784, 64, 10))


def train_nan(X, y):
    params = init((784, 64, 10))
    params[2][0, 0] = np.nan
    return params


def train_transposed(X, y):
    return [p.T if p.ndim == 2 else p for p in init((784, 64, 10))]


def train_nine_classes(X, y):
    return init((784, 64, 9))


def train_dict(X, y):
    return dict(enumerate(init((784, 64, 10))))


def train_tuple_of_one(X, y):
    return init((784, 10))[:1]


# ---------------------------------------------------------------- the catalogue

RIGHT = [
    (check.parse_idx, read_idx),
    (check.parse_idx, idx_loop),
    (check.mlp_forward, forward_numpy),
    (check.mlp_forward, forward_recursive),
    (check.accuracy, lambda logits, labels: np.mean(logits.argmax(axis=1) == labels)),
    (check.accuracy, accuracy_loop),
    (check.accuracy, accuracy_via_softmax),
    (check.train_step, step_right),
    (check.train_step, step_numpy),
    (check.train_step, step_rebinding),      # new arrays in the caller's lists: also works
]

WRONG = [
    (check.parse_idx, idx_little_endian_sizes, "big-endian uint32"),
    (check.parse_idx, idx_no_header_skip, "the values start at byte 4"),
    (check.parse_idx, idx_native_int32, "byte-swapped"),
    (check.parse_idx, idx_flat, "flat array"),
    (check.parse_idx, idx_trusting, "instead of raising ValueError"),
    (check.parse_idx, idx_float, "dtype is float64"),
    (check.parse_idx, idx_nan, "wrong dtype"),
    (check.mlp_forward, forward_relu_last, "through a ReLU too"),
    (check.mlp_forward, forward_softmax, "probabilities"),
    (check.mlp_forward, forward_no_bias, "biases are missing"),
    (check.mlp_forward, forward_transposed, "raised ValueError"),
    (check.mlp_forward, forward_three_layers_only, "raised ValueError"),
    (check.mlp_forward, forward_float64, "wrong dtype"),
    (check.mlp_forward, forward_nan, "NaN"),
    (check.accuracy, lambda z, y: 100 * np.mean(z.argmax(axis=1) == y), "percentage"),
    (check.accuracy, lambda z, y: np.sum(z.argmax(axis=1) == y), "number of right answers"),
    (check.accuracy, lambda z, y: np.mean(z.argmax(axis=0)[:len(y)] == y), "axis 0"),
    (check.accuracy, lambda z, y: z.argmax(axis=1) == y, "one number"),
    (check.accuracy, lambda z, y: np.mean(z.argmin(axis=1) == y), "expected"),
    (check.accuracy, lambda z, y: np.nan, "expected"),
    (check.train_step, step_copies, "params did not change"),
    (check.train_step, step_summed, "sum over the batch"),
    (check.train_step, step_summed_gradient_only, "N = 8 times too large"),
    (check.train_step, step_lr_in_velocity, "holds lr * g"),
    (check.train_step, step_no_momentum, "the momentum term momentum * v is missing"),
    (check.train_step, step_plus, "moved uphill"),
    (check.train_step, step_loss_sign_flipped, "the loss has the wrong sign"),
    (check.train_step, step_gradient_sign_flipped, "the gradient has the wrong sign"),
    (check.train_step, step_classic_momentum, "classic momentum form"),
    (check.train_step, step_no_relu_mask, "mask is missing"),
    (check.train_step, step_loss_after, "computed before the update"),
    (check.train_step, step_nan, "is not p - lr * v"),
    (check.train_mlp, train_nothing, "below 97%"),
    (check.train_mlp, train_nan, "NaN or inf"),
    (check.train_mlp, train_transposed, "(fan_in, fan_out)"),
    (check.train_mlp, train_nine_classes, "10 classes"),
    (check.train_mlp, train_dict, "return the list"),
    (check.train_mlp, train_tuple_of_one, "a list of 1 items"),
]
register(RIGHT + [(check.train_mlp, train_right)], WRONG, __name__)  # train_right: tested below


@pytest.mark.parametrize("task, candidate", RIGHT,
                         ids=[f"{t.__name__}-{c.__name__}" for t, c in RIGHT])
def test_right_answers_pass(task, candidate, capsys):
    task(candidate)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("task, candidate, fragment", WRONG,
                         ids=[f"{t.__name__}-{c.__name__}" for t, c, _ in WRONG])
def test_wrong_answers_fail_naming_the_problem(task, candidate, fragment):
    with pytest.raises(CheckFailed) as failure:
        task(candidate)
    assert fragment in str(failure.value), str(failure.value)
    assert_short(str(failure.value))
    assert "reread chapter 10" in str(failure.value) or "not implemented" in str(failure.value)


def test_training_a_real_network_passes(capsys):
    """A right answer for the last task: it trains for real (a few seconds). With a seed, which
    only reorders the training set: the default order trains in solutions/10_mnist.ipynb, whose
    stored ✓ nbval compares (one real training run here, not two: each costs a minute under
    load)."""
    check.train_mlp(train_right, seed=1)
    assert capsys.readouterr().out.startswith("✓ train_mlp (seed 1):")


def test_a_training_that_is_too_slow_is_stopped(monkeypatch):
    import time

    monkeypatch.setattr(check.ch10_mnist, "TRAIN_SECONDS", 1)
    with pytest.raises(CheckFailed, match="no answer within 1 s .*fewer epochs"):
        check.train_mlp(lambda X, y: time.sleep(5))
