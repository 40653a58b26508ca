"""The chapter 9 checks: right answers pass (other algebra, einsum, the engine itself, Kahn's
algorithm, a dictionary of gradients), classic wrong answers fail with a message naming the
problem: assigning instead of accumulating, not un-broadcasting, averaging where shares add,
a node processed before all its consumers (breadth-first, forward order), transposes in matmul,
swapped factors, recursion too deep, nodes listed twice or missing, a missing seed or reset."""

import numpy as np
import pytest

from byhand import check
from byhand.check import CheckFailed
from byhand.engine import Tensor, topological_order
from catalogue import catalogue


# ---------------------------------------------------------------- right answers

def sum_to_shape_loop(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def sum_to_shape_axes(grad, shape):          # one sum over all axes at once, then reshape
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


def mul_grads_right(a, b, g):
    return sum_to_shape_loop(g * b, np.shape(a)), sum_to_shape_loop(g * a, np.shape(b))


def mul_grads_engine(a, b, g):               # let the engine do it: two separate leaves
    ta, tb = Tensor(a), Tensor(b)
    (ta * tb).backward(g)
    return ta.grad, tb.grad


def matmul_einsum(A, B, G):
    return np.einsum("nh,dh->nd", G, B), np.einsum("nd,nh->dh", A, G)


def matmul_engine(A, B, G):
    tA, tB = Tensor(A), Tensor(B)
    (tA @ tB).backward(G)
    return tA.grad, tB.grad


def topo_stack(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if p not in seen)
    return order


def topo_kahn(root):                         # Kahn: count consumers, peel from the root
    nodes, stack = {root}, [root]
    while stack:
        for p in stack.pop().parents:
            if p not in nodes:
                nodes.add(p)
                stack.append(p)
    consumers = {n: 0 for n in nodes}
    for n in nodes:
        for p in n.parents:
            consumers[p] += 1
    ready, backwards = [root], []
    while ready:
        n = ready.pop()
        backwards.append(n)
        for p in n.parents:
            consumers[p] -= 1
            if consumers[p] == 0:
                ready.append(p)
    return backwards[::-1]


def backward_right(root):
    order = topo_stack(root)
    for node in order:
        node.grad = np.zeros_like(node.data)
    root.grad = np.ones_like(root.data)
    for node in reversed(order):
        if node.vjp is not None:
            for parent, g in zip(node.parents, node.vjp(node.grad)):
                parent.grad += g


def backward_dict(root):                     # gradients in a dictionary, written at the end
    order = topo_kahn(root)
    grads = {node: np.zeros(node.shape) for node in order}
    grads[root] = np.ones(root.shape)
    for node in reversed(order):
        if node.vjp is not None:
            for parent, g in zip(node.parents, node.vjp(grads[node])):
                grads[parent] = grads[parent] + g
    for node, g in grads.items():
        node.grad = g


RIGHT = [
    (check.sum_to_shape, sum_to_shape_loop),
    (check.sum_to_shape, sum_to_shape_axes),
    (check.mul_grads, mul_grads_right),
    (check.mul_grads, mul_grads_engine),
    (check.matmul_grads, lambda A, B, G: (G @ B.T, A.T @ G)),
    (check.matmul_grads, matmul_einsum),
    (check.matmul_grads, matmul_engine),
    (check.topological_sort, topo_stack),
    (check.topological_sort, topo_kahn),
    (check.topological_sort, topological_order),
    (check.backward_pass, backward_right),
    (check.backward_pass, backward_dict),
    (check.backward_pass, lambda root: root.backward()),
]


# ---------------------------------------------------------------- wrong answers

def topo_recursive(root):
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for p in node.parents:
                visit(p)
            order.append(node)

    visit(root)
    return order


def topo_breadth_first_reversed(root):
    order, queue, seen = [], [root], {root}
    while queue:
        node = queue.pop(0)
        order.append(node)
        for p in node.parents:
            if p not in seen:
                seen.add(p)
                queue.append(p)
    return order[::-1]


def topo_no_seen_set(root):                  # post-order without remembering visits
    order, stack = [], [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    return order


def topo_root_first(root):
    return topo_stack(root)[::-1]


def topo_operations_only(root):
    return [n for n in topo_stack(root) if n.vjp is not None]


def backward_with(order_of, assign=False, seed=True, reset=True):
    def run(root):
        order = topo_stack(root)
        for node in order:
            if reset or node.grad is None:
                node.grad = np.zeros_like(node.data)
        if seed:
            root.grad = np.ones_like(root.data)
        for node in order_of(root):
            if node.vjp is not None:
                for parent, g in zip(node.parents, node.vjp(node.grad)):
                    if assign:
                        parent.grad = g
                    else:
                        parent.grad += g
    return run


def reverse_topo(root):
    return reversed(topo_stack(root))


def breadth_first(root):
    return topo_breadth_first_reversed(root)[::-1]


def backward_no_reset(root):                 # the first call is right, the second doubles
    order = topo_stack(root)
    for node in order:
        if node.grad is None:
            node.grad = np.zeros_like(node.data)
    root.grad = np.ones_like(root.data)
    for node in reversed(order):
        if node.vjp is not None:
            for parent, g in zip(node.parents, node.vjp(node.grad)):
                parent.grad += g


def backward_changes_data(root):
    backward_right(root)
    root.data = root.data + 1.0


WRONG = [
    # sum_to_shape
    (check.sum_to_shape, lambda grad, shape: grad, "not un-broadcast"),
    (check.sum_to_shape, lambda grad, shape: grad.mean(axis=0) if shape else grad.mean(),
     "averaged"),
    (check.sum_to_shape, lambda grad, shape: grad.sum(axis=0), "keepdims"),
    (check.sum_to_shape, lambda grad, shape: grad.sum(axis=-1) if len(shape) == 1
     else sum_to_shape_loop(grad, shape), "wrong axes"),
    (check.sum_to_shape, lambda grad, shape: sum_to_shape_loop(grad, shape).astype(np.float64),
     "wrong dtype"),
    # mul_grads
    (check.mul_grads, lambda a, b, g: (g * a, g * b), "swapped"),
    (check.mul_grads, lambda a, b, g: (g * b, g * a), "not un-broadcast"),
    (check.mul_grads, lambda a, b, g: (b, a), "upstream"),
    (check.mul_grads, lambda a, b, g: (2 * g * b, 2 * g * a) if np.array_equal(a, b) else
     mul_grads_right(a, b, g), "x * x"),
    (check.mul_grads, lambda a, b, g: mul_grads_right(a, b, g)[0], "not an array pair"),
    # matmul_grads
    (check.matmul_grads, lambda A, B, G: (G @ B, A.T @ G), "transposes in matmul"),
    (check.matmul_grads, lambda A, B, G: (G @ B.T, G.T @ A), "transposes in matmul"),
    (check.matmul_grads, lambda A, B, G: (G @ B.T, (A.T @ G).T), "transpose of"),
    (check.matmul_grads, lambda A, B, G: (A.T @ G, G @ B.T), "(dB, dA)"),
    (check.matmul_grads, lambda A, B, G: (B.T @ G if B.shape[0] == G.shape[0] else G @ B.T,
                                          A.T @ G), "transpose in the wrong place"),
    # topological_sort
    (check.topological_sort, topo_recursive, "RecursionError"),
    (check.topological_sort, topo_breadth_first_reversed, "wrong topological order"),
    (check.topological_sort, topo_no_seen_set, "listed 2 times"),
    (check.topological_sort, topo_root_first, "root comes first"),
    (check.topological_sort, topo_operations_only, "missing"),
    # backward_pass
    (check.backward_pass, backward_with(reverse_topo, assign=True),
     "assigning instead of accumulating"),
    (check.backward_pass, backward_with(breadth_first), "wrong topological order"),
    (check.backward_pass, backward_with(topo_stack), "wrong topological order"),
    (check.backward_pass, backward_with(reverse_topo, seed=False), "seed"),
    (check.backward_pass, backward_no_reset, "second call"),
    (check.backward_pass, backward_changes_data, "changed some node's .data"),
]

TASKS = [check.sum_to_shape, check.mul_grads, check.matmul_grads, check.topological_sort,
         check.backward_pass]


test_right_answers_pass, test_wrong_answers_are_named = catalogue(RIGHT, WRONG, chapter=9)


def test_every_task_is_catalogued():
    assert {t.__name__ for t in TASKS} == set(check.ch09_graphs.__all__)
    for task in TASKS:
        assert sum(t is task for t, _, _ in WRONG) >= 3, task.__name__
        assert sum(t is task for t, _ in RIGHT) >= 2, task.__name__


def test_task_names_differ_from_the_functions_they_check():
    import byhand.engine
    import byhand.nn
    for name in check.ch09_graphs.__all__:
        assert not hasattr(byhand.nn, name) and not hasattr(byhand.engine, name), name


@pytest.mark.parametrize("task", [check.sum_to_shape, check.mul_grads, check.matmul_grads],
                         ids=lambda t: t.__name__)
def test_nan_results_are_reported_as_nan(task):
    right = next(candidate for t, candidate in RIGHT if t is task)

    def poisoned(*args):
        result = right(*args)
        if isinstance(result, tuple):
            return (result[0], np.full_like(result[1], np.nan))
        return result * np.nan

    with pytest.raises(CheckFailed, match="NaN"):
        task(poisoned)


def test_nan_gradients_from_a_backward_pass_are_reported():
    def poisoned(root):
        backward_right(root)
        for node in topo_stack(root):
            if node.vjp is None:
                node.grad = node.grad * np.nan

    with pytest.raises(CheckFailed, match="NaN"):
        check.backward_pass(poisoned)


@pytest.mark.parametrize("task", [check.sum_to_shape, check.mul_grads, check.matmul_grads],
                         ids=lambda t: t.__name__)
def test_a_check_can_fail_on_a_near_miss(task):
    right = next(candidate for t, candidate in RIGHT if t is task)

    def nudged(*args):
        result = right(*args)
        first = np.array(result[0] if isinstance(result, tuple) else result)
        first.flat[0] += 1e-3
        return (first, *result[1:]) if isinstance(result, tuple) else first

    with pytest.raises(CheckFailed, match="wrong value"):
        task(nudged)


def test_a_near_miss_in_one_leaf_fails_the_backward_pass():
    def nudged(root):
        backward_right(root)
        leaf = next(n for n in topo_stack(root) if n.vjp is None and n.name)
        leaf.grad = leaf.grad + 1e-3

    with pytest.raises(CheckFailed, match="wrong value"):
        check.backward_pass(nudged)


def test_a_node_list_with_an_extra_node_is_rejected():
    def extra(root):
        return [Tensor(1.0)] + topo_stack(root)

    with pytest.raises(CheckFailed, match="does not depend on"):
        check.topological_sort(extra)
