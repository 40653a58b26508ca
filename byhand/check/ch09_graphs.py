"""Checks for the exercises of chapter 9: computation graphs and reverse mode."""

import sys

import numpy as np

from ..engine import Tensor, topological_order, unbroadcast
from .core import (CheckFailed, call, case, describe, dims, expect_array, fresh_rng, passed,
                   seeded, task)

__all__ = ["sum_to_shape", "mul_grads", "matmul_grads", "topological_sort", "backward_pass"]

HINT_BROADCAST = ("reread chapter 9, section 9.3 'Broadcasting backwards: the batched bias': "
                  "sum over the axes that broadcasting added or stretched.")
HINT_MUL = ("reread chapter 9, section 9.5 'The engine': each factor gets the upstream "
            "gradient times the other factor, then un-broadcast to its own shape.")
HINT_MATMUL = ("reread chapter 9, section 9.6 'Matrix products: where the transposes go': "
               "each gradient has the shape of its factor, and that decides the order.")
HINT_ORDER = ("reread chapter 9, section 9.4 'The order of the backward pass': depth-first, "
              "append a node after all its parents, with a set of visited nodes and a stack.")
HINT_ACCUMULATE = ("reread chapter 9, section 9.2 'The chain rule on a graph: gradients add' "
                   "and section 9.10 'Classic mistakes'.")


# ---------------------------------------------------------------- task 1: un-broadcasting

SUM_CASES = [
    ("a bias (5,) added to a batch (4, 5)", (4, 5), (5,)),
    ("a row (1, 5) added to a batch (4, 5)", (4, 5), (1, 5)),
    ("a column (4, 1) added to a batch (4, 5)", (4, 5), (4, 1)),
    ("a scalar () added to a batch (4, 5)", (4, 5), ()),
    ("a (1, 1) array added to a batch (4, 5)", (4, 5), (1, 1)),
    ("no broadcasting: (4, 5) and (4, 5)", (4, 5), (4, 5)),
    ("(3, 1) against a (2, 3, 4) array: a new axis and a stretched one", (2, 3, 4), (3, 1)),
    ("a bias (3,) against a batch (6, 3)", (6, 3), (3,)),
]


@task(hints=(
    "Reread chapter 9, section 9.3 'Broadcasting backwards: the batched bias': a value that "
    "broadcasting copied to many places receives the sum of their gradients.",
    "Two kinds of axes to undo: leading axes that broadcasting prepended (sum them away "
    "entirely), and axes where the target shape has length 1 but the gradient does not (sum "
    "them while keeping the axis). Do the first kind first.",
))
def sum_to_shape(candidate):
    """candidate(grad, shape) -> grad summed down to `shape` (undoing broadcasting)."""
    rng = fresh_rng(90)
    cases = list(SUM_CASES)
    if seeded() is not None:
        big = dims(rng, 2, 3, 4, low=1, high=6)[:int(rng.integers(1, 4))]
        small = tuple(1 if rng.random() < 0.4 else n for n in big[int(rng.integers(len(big))):])
        cases.append((f"a fresh pair, {small} against {big} (seed {seeded()})", big, small))
    for name, big, small in cases:
        for dtype in (np.float64, np.float32):
            grad = rng.normal(size=big).astype(dtype)
            got = call(candidate, grad, small, hint=HINT_BROADCAST)
            expected = unbroadcast(grad, small)
            inputs = f"grad of shape {big}, shape={small}"
            if isinstance(got, np.generic):
                got = np.asarray(got)
            if isinstance(got, np.ndarray) and got.shape != expected.shape:
                if got.shape == grad.shape:
                    problem = ("the gradient was not un-broadcast: it still has the upstream's "
                               f"shape {got.shape}, not the operand's {small}; sum over the "
                               "broadcast axes")
                elif got.size == expected.size:
                    problem = (f"shape {got.shape} instead of {small}: the right numbers, but "
                               "reshape or keepdims so that axes of length 1 stay and summed "
                               "leading axes go")
                else:
                    problem = (f"shape {got.shape} instead of {small}: summed over the wrong "
                               "axes (the leading axes that broadcasting added, and the axes "
                               "of length 1 it stretched)")
                raise CheckFailed(f"on {name}: {problem}\n  input: {inputs}", HINT_BROADCAST)
            if isinstance(got, np.ndarray) and got.shape == expected.shape:
                ratio = grad.size // max(expected.size, 1)
                if ratio > 1 and np.allclose(got, expected / ratio, rtol=1e-5):
                    raise CheckFailed(
                        f"on {name}: you averaged over the broadcast axes; each copy of the "
                        "operand received its own share of the gradient, and shares add: "
                        f"sum, do not mean\n  input: {inputs}", HINT_BROADCAST)
            rtol = 1e-5 if dtype == np.float32 else 1e-12
            with case(name):
                expect_array(got, expected, inputs=inputs, hint=HINT_BROADCAST,
                             rtol=rtol, atol=rtol)
    passed("sum_to_shape", f"{len(cases)} broadcasts undone, float32 and float64")


# ---------------------------------------------------------------- helpers for pairs

def _pair(got, name, inputs, hint):
    if got is None:
        raise CheckFailed(f"on {name}: your function returned None: did it forget `return`?"
                          f"\n  input: {inputs}", hint)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailed(f"on {name}: your function returned a {type(got).__name__}, not an "
                          "array pair: return a tuple of two arrays, one gradient per operand"
                          f"\n  input: {inputs}", hint)
    return [np.asarray(g) if isinstance(g, np.generic) else g for g in got]


def _same(got, want):
    return (isinstance(got, np.ndarray) and got.shape == want.shape
            and np.allclose(got, want, rtol=1e-9, atol=1e-12))


# ---------------------------------------------------------------- task 2: mul

@task(hints=(
    "Reread chapter 9, section 9.5 'The engine': the derivative of a product with respect to "
    "one factor is the other factor.",
    "Each factor gets the upstream gradient times the other factor, and then that product is "
    "summed back down to the factor's own shape with task 1, since broadcasting may have "
    "stretched it. Return the pair in the order a, b.",
))
def mul_grads(candidate):
    """candidate(a, b, g) -> (da, db) for z = a * b (entry-wise, broadcasting)."""
    rng = fresh_rng(91)
    cases = [
        ("a (3, 4) times b (3, 4)", (3, 4), (3, 4)),
        ("a batch (5, 3) times a (3,) vector (broadcast)", (5, 3), (3,)),
        ("a column (4, 1) times a row (1, 3) (an outer product)", (4, 1), (1, 3)),
        ("a scalar () times a (2, 3) array", (), (2, 3)),
    ]
    if seeded() is not None:
        sa = dims(rng, 3, 4, low=1, high=6)
        sb = tuple(1 if rng.random() < 0.5 else n for n in sa[int(rng.integers(2)):])
        cases.append((f"a fresh pair, a {sa} times b {sb} (seed {seeded()})", sa, sb))
    for name, sa, sb in cases:
        a, b = rng.normal(size=sa), rng.normal(size=sb)
        g = rng.normal(size=np.broadcast_shapes(sa, sb))
        inputs = f"a {describe(a)}, b {describe(b)}, g of shape {g.shape}"
        da, db = _pair(call(candidate, a, b, g, hint=HINT_MUL), name, inputs, HINT_MUL)
        want_a, want_b = unbroadcast(g * b, sa), unbroadcast(g * a, sb)
        for label, got, shape in (("da", da, sa), ("db", db, sb)):
            if isinstance(got, np.ndarray) and got.shape == g.shape != shape:
                raise CheckFailed(
                    f"on {name}: {label} has the upstream's shape {g.shape}, not the operand's "
                    f"{shape}: not un-broadcast; sum it back to the operand's shape"
                    f"\n  input: {inputs}", HINT_BROADCAST)
        if sa == sb and _same(da, g * a) and _same(db, g * b) and not _same(da, want_a):
            raise CheckFailed(
                f"on {name}: the factors are swapped: da must be g * b (the OTHER factor), "
                f"db = g * a\n  input: {inputs}", HINT_MUL)
        if sa == sb and _same(da, b) and not _same(da, want_a):
            raise CheckFailed(
                f"on {name}: da = b is the local derivative alone; multiply by the upstream "
                f"gradient g\n  input: {inputs}", HINT_MUL)
        for label, got, want in (("da", da, want_a), ("db", db, want_b)):
            try:
                expect_array(got, want, inputs=inputs, hint=HINT_MUL, rtol=1e-10, atol=1e-12)
            except CheckFailed as failure:
                raise CheckFailed(f"on {name}, {label}: {failure.message}",
                                  failure.hint) from None
    x = rng.normal(size=(2, 3))
    g = rng.normal(size=(2, 3))
    da, db = _pair(call(candidate, x, x, g, hint=HINT_MUL), "x * x", "a = b = x", HINT_MUL)
    if not (_same(da, g * x) and _same(db, g * x)):
        raise CheckFailed("on x * x: each of the two uses of x gets g * x (the engine adds "
                          "them to 2 g x later); return one share per operand", HINT_ACCUMULATE)
    passed("mul_grads", f"{len(cases) + 1} products, with broadcasting and x * x")


# ---------------------------------------------------------------- task 3: matmul

@task(hints=(
    "Reread chapter 9, section 9.6 'Matrix products: where the transposes go': let the "
    "shapes decide where the transposes go.",
    "dA must have A's shape (N, D): the product of G, shape (N, H), with B transposed, shape "
    "(H, D). dB must have B's shape (D, H): A transposed, shape (D, N), times G.",
))
def matmul_grads(candidate):
    """candidate(A, B, G) -> (dA, dB) for C = A @ B and upstream G = dE/dC."""
    rng = fresh_rng(92)
    cases = [("A (4, 3) @ B (3, 5): all sizes differ", 4, 3, 5),
             ("square A (3, 3) @ B (3, 3): shapes cannot catch a transpose", 3, 3, 3),
             ("A (6, 2) @ B (2, 1): one output column", 6, 2, 1),
             ("A (1, 4) @ B (4, 3): one example", 1, 4, 3)]
    if seeded() is not None:
        N, D, H = dims(rng, 4, 3, 5, low=1, high=8)
        cases.append((f"A ({N}, {D}) @ B ({D}, {H}), fresh (seed {seeded()})", N, D, H))
    for name, N, D, H in cases:
        A, B, G = rng.normal(size=(N, D)), rng.normal(size=(D, H)), rng.normal(size=(N, H))
        inputs = f"A {A.shape}, B {B.shape}, G {G.shape}"
        try:
            got = call(candidate, A, B, G, hint=HINT_MATMUL)
        except CheckFailed as failure:
            if "ValueError" in failure.message and "matmul" in failure.message:
                raise CheckFailed(
                    f"on {name}: {failure.message.splitlines()[0]}: the shapes do not fit, "
                    "so the transposes in matmul are in the wrong places: dA = G @ B.T "
                    f"{(N, H)} @ {(H, D)}, dB = A.T @ G {(D, N)} @ {(N, H)}\n  input: {inputs}",
                    HINT_MATMUL) from None
            raise
        dA, dB = _pair(got, name, inputs, HINT_MATMUL)
        want_A, want_B = G @ B.T, A.T @ G
        if (isinstance(dA, np.ndarray) and isinstance(dB, np.ndarray) and N != H
                and dA.shape == want_B.shape and dB.shape == want_A.shape and D != N):
            raise CheckFailed(f"on {name}: you returned (dB, dA); return (dA, dB)"
                              f"\n  input: {inputs}", HINT_MATMUL)
        for label, got, want, other in (("dA", dA, want_A, "G @ B.T"),
                                        ("dB", dB, want_B, "A.T @ G")):
            if isinstance(got, np.ndarray) and got.shape == want.T.shape != want.shape:
                raise CheckFailed(
                    f"on {name}: {label} has shape {got.shape}, the transpose of {want.shape}: "
                    f"transposes in matmul; {label} = {other}\n  input: {inputs}", HINT_MATMUL)
            if _same(got, want.T) and not _same(got, want):
                raise CheckFailed(
                    f"on {name}: {label} is the transpose of the right answer: transposes in "
                    f"matmul; {label} = {other}\n  input: {inputs}", HINT_MATMUL)
            wrong = {"dA": [G @ B] if H == D else [], "dB": [A @ G] if N == D else []}
            wrong["dA"] += [B.T @ G] if D == N else []
            wrong["dB"] += [G @ A.T] if H == N and D == N else []
            if any(_same(got, w) for w in wrong[label]) and not _same(got, want):
                raise CheckFailed(
                    f"on {name}: {label} has a transpose in the wrong place: transposes in "
                    f"matmul; {label} = {other} (the upstream G takes the place of the factor "
                    f"being differentiated)\n  input: {inputs}", HINT_MATMUL)
            try:
                expect_array(got, want, inputs=inputs, hint=HINT_MATMUL, rtol=1e-10, atol=1e-12)
            except CheckFailed as failure:
                raise CheckFailed(f"on {name}, {label}: {failure.message}",
                                  failure.hint) from None
    passed("matmul_grads", f"{len(cases)} products, square and not")


# ---------------------------------------------------------------- graphs for tasks 4 and 5

def _chain():
    x = Tensor([0.3, -1.2, 0.8], name="x")
    return (x.tanh().exp() * 2.0).sum(), [x]


def _square():
    x = Tensor([1.5, -2.0, 0.25], name="x")
    return (x * x).sum(), [x]


def _two_paths():
    x = Tensor(0.3, name="x")
    u = x.tanh()
    return u + u * 3.0, [x]            # u used twice, along paths of different lengths


def _residual():
    rng = fresh_rng(93)
    X = Tensor(rng.normal(size=(4, 3)), name="X")
    W = Tensor(rng.normal(size=(3, 3)), name="W")
    b1, b2 = Tensor(rng.normal(size=3), name="b1"), Tensor(rng.normal(size=3), name="b2")
    Y = X + (X @ W + b1).relu() + b2
    return (Y * Y).mean(), [X, W, b1, b2]


def _mlp():
    rng = fresh_rng(94)
    N, D, H, K = dims(rng, 5, 4, 6, 3, low=2, high=7)
    X = Tensor(rng.normal(size=(N, D)), name="X")
    W1, b1 = Tensor(rng.normal(size=(D, H)), name="W1"), Tensor(rng.normal(size=H), name="b1")
    W2, b2 = Tensor(rng.normal(size=(H, K)), name="W2"), Tensor(rng.normal(size=K), name="b2")
    labels = np.array([0, 2, 1, 2, 0]) if seeded() is None else rng.integers(0, K, N)
    S = (X @ W1 + b1).relu() @ W2 + b2
    return -S.log_softmax().pick(labels).mean(), [X, W1, b1, W2, b2]


def _deep():
    x = Tensor(0.1, name="x")
    y = x
    for _ in range(max(3000, sys.getrecursionlimit() + 1000)):
        y = y.tanh()
    return y, [x]


GRAPHS = [("a chain x -> tanh -> exp -> * 2 -> sum", _chain),
          ("x * x (x used twice)", _square),
          ("y = u + 3u, u = tanh(x) (two paths of different lengths)", _two_paths),
          ("a residual block X + relu(X W + b1) + b2 (X used twice)", _residual),
          ("a 2-layer MLP with softmax cross-entropy", _mlp)]


def _label(node):
    return node.name or node.op or "a constant"


@task(hints=(
    "Reread chapter 9, section 9.4 'The order of the backward pass': a node may be listed "
    "only after all of its parents, and each node exactly once.",
    "Go depth-first from the root with an explicit stack instead of recursion (graphs here are "
    "deeper than Python's recursion limit) and a set of visited nodes. Push each node twice: "
    "first to visit its parents, then, once they are done, to append it to the order.",
))
def topological_sort(candidate):
    """candidate(root) -> every node root depends on, each after its parents, root last."""
    deep = ("a chain of thousands of tanh nodes, deeper than Python's recursion limit", _deep)
    for name, build in GRAPHS + [deep]:
        root, _ = build()
        reachable = topological_order(root)
        try:
            got = call(candidate, root, hint=HINT_ORDER)
        except CheckFailed as failure:
            if "RecursionError" in failure.message:
                raise CheckFailed(
                    f"on {name}: RecursionError: Python stops at about 1000 nested calls; "
                    "keep your own stack (a list) instead of recursing", HINT_ORDER) from None
            raise CheckFailed(f"on {name}: {failure.message}", failure.hint) from None
        if got is None:
            raise CheckFailed(f"on {name}: your function returned None: did it forget "
                              "`return`?", HINT_ORDER)
        if not isinstance(got, (list, tuple)) or not all(isinstance(t, Tensor) for t in got):
            raise CheckFailed(f"on {name}: your function returned a {type(got).__name__} that "
                              "is not a list of the graph's Tensor nodes (not an array either: "
                              "the nodes themselves, in order)", HINT_ORDER)
        got = list(got)
        if len(set(got)) < len(got):
            twice = next(t for t in got if got.count(t) > 1)
            raise CheckFailed(
                f"on {name}: node {_label(twice)} is listed {got.count(twice)} times; a node "
                "reachable along several paths must appear once (keep a set of visited "
                "nodes), or backward would process it twice", HINT_ORDER)
        missing = [t for t in reachable if t not in set(got)]
        if missing:
            raise CheckFailed(f"on {name}: {len(missing)} node(s) missing, e.g. "
                              f"{_label(missing[0])}: list every node the root depends on, "
                              "leaves and constants included", HINT_ORDER)
        if len(got) != len(reachable):
            raise CheckFailed(f"on {name}: {len(got) - len(reachable)} node(s) that the root "
                              "does not depend on", HINT_ORDER)
        if got[0] is root and len(got) > 1:
            raise CheckFailed(
                f"on {name}: the root comes first: your list runs from the output to the "
                "inputs; return parents first and the root last (backward walks it "
                "reversed)", HINT_ORDER)
        position = {t: i for i, t in enumerate(got)}
        for t in got:
            for p in t.parents:
                if position[p] > position[t]:
                    raise CheckFailed(
                        f"on {name}: wrong topological order: {_label(p)} is a parent of "
                        f"{_label(t)} but comes after it; reversed, your order would process "
                        f"{_label(p)} before all its consumers", HINT_ORDER)
    passed("topological_sort", f"{len(GRAPHS) + 1} graphs, each node once, after its parents")


# ---------------------------------------------------------------- task 5: the backward loop

def _reference_grads(build, order_of=None, assign=False):
    root, leaves = build()
    order = topological_order(root)
    for node in order:
        node.grad = np.zeros_like(node.data)
    root.grad = np.ones_like(root.data)
    for node in (order_of(root) if order_of else reversed(order)):
        if node.vjp is not None:
            for parent, g in zip(node.parents, node.vjp(node.grad)):
                if assign:
                    parent.grad = g
                else:
                    parent.grad = parent.grad + g
    return [t.grad for t in leaves]


def _breadth_first(root):
    order, queue, seen = [], [root], {root}
    while queue:
        node = queue.pop(0)
        order.append(node)
        for p in node.parents:
            if p not in seen:
                seen.add(p)
                queue.append(p)
    return order


def _all_same(got, want):
    return all(_same(np.asarray(g), np.asarray(w)) for g, w in zip(got, want))


@task(hints=(
    "Reread chapter 9, section 9.2 'The chain rule on a graph: gradients add' and section "
    "9.4: every node must receive the shares of all its consumers before it passes its own "
    "gradient on.",
    "Start every node's gradient at zeros and the root's at ones. Walk the topological order "
    "of task 4 reversed; for each node with a VJP, hand its gradient to the VJP and add each "
    "returned share to the matching parent's gradient, never overwrite it.",
))
def backward_pass(candidate):
    """candidate(root) fills .grad of every node root depends on (reverse mode)."""
    for name, build in GRAPHS:
        root, leaves = build()
        before = [t.data.copy() for t in topological_order(root)]
        result = call(candidate, root, hint=HINT_ACCUMULATE)
        if any(not np.array_equal(b, t.data) for b, t in zip(before, topological_order(root))):
            raise CheckFailed(f"on {name}: your function changed some node's .data; a "
                              "backward pass only writes .grad", HINT_ACCUMULATE)
        got = [np.asarray(t.grad) if isinstance(t.grad, np.generic) else t.grad
               for t in leaves]                  # a 0-d sum comes back as a NumPy scalar
        want = [np.asarray(w) for w in _reference_grads(build)]
        for t, g in zip(leaves, got):
            if g is None:
                returned = ("returned None" if result is None else
                            f"returned a {type(result).__name__} (it need not return anything, "
                            "not an array either)")
                raise CheckFailed(f"on {name}: your function {returned} and left "
                                  f"{_label(t)}.grad as None: set the gradient of every node "
                                  "the root depends on", HINT_ACCUMULATE)
            if not isinstance(g, np.ndarray) or g.shape != t.shape:
                raise CheckFailed(f"on {name}: {_label(t)}.grad must be an array of shape "
                                  f"{t.shape}, like {_label(t)}.data", HINT_ACCUMULATE)
        if _all_same(got, want):
            again = [np.array(t.grad) for t in leaves]
            call(candidate, root, hint=HINT_ACCUMULATE)
            if not _all_same([t.grad for t in leaves], again):
                raise CheckFailed(
                    f"on {name}: a second call changed the gradients (doubled them?): start "
                    "every node's .grad at zeros before the pass", HINT_ACCUMULATE)
            continue
        seed = root.grad
        if not isinstance(seed, np.ndarray) or seed.shape != root.shape or np.any(seed != 1):
            raise CheckFailed(f"on {name}: the root's .grad is {describe(seed)}: seed it with "
                              "ones (d root / d root = 1) before walking the graph",
                              HINT_ACCUMULATE)
        if _all_same(got, _reference_grads(build, assign=True)):
            raise CheckFailed(
                f"on {name}: assigning instead of accumulating: a node used twice keeps only "
                "the last share; write parent.grad += g (gradients add at a fan-out)",
                HINT_ACCUMULATE)
        for order_of, what in ((_breadth_first, "in breadth-first order from the root"),
                               (topological_order, "in the forward (topological) order, "
                                                   "not its reverse")):
            if _all_same(got, _reference_grads(build, order_of=order_of)):
                raise CheckFailed(
                    f"on {name}: wrong topological order: you processed the nodes {what}, so "
                    "a node was processed before all its consumers had sent their share; "
                    "walk reversed(topological order)", HINT_ORDER)
        for t, g, w in zip(leaves, got, want):
            with case(name):
                expect_array(g, w, inputs=f"the graph '{name}', gradient of {_label(t)}",
                             hint=HINT_ACCUMULATE, rtol=1e-10, atol=1e-12)
    passed("backward_pass", f"{len(GRAPHS)} graphs, nodes used twice, run twice")
