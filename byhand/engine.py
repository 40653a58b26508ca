"""Chapter 9: a tiny reverse-mode engine over NumPy arrays.

A `Tensor` holds a float64 array `data`, its gradient `grad`, the tensors it was
computed from (`parents`) and `vjp`: a function that takes the upstream gradient
(shaped like `data`) and returns one gradient per parent, each shaped like that
parent. Operations build the graph as they compute; `backward()` walks it in
reverse topological order and adds every gradient into its parent's `grad`.
"""

import numpy as np

__all__ = ["Tensor", "unbroadcast", "topological_order"]


def unbroadcast(grad, shape):
    """Sum grad down to `shape`: the backward pass of NumPy broadcasting.

    Broadcasting copies an operand along new leading axes and along axes of
    length 1; every copy received a share of the upstream gradient, so the
    shares are added up: the batched bias b (H,) in X W + b gets dA.sum(axis=0).
    """
    while grad.ndim > len(shape):                # new leading axes: sum them away
        grad = grad.sum(axis=0)
    for axis, n in enumerate(shape):             # stretched axes of length 1
        if n == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def topological_order(root):
    """Every tensor that root depends on, each one after all of its parents.

    Iterative depth-first search (no recursion, so a chain of 100 000 nodes is
    fine): a node is appended once all its parents are; root comes last.
    """
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)                   # post-order: parents are in
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))           # come back after the parents
            stack.extend((p, False) for p in node.parents if p not in seen)
    return order


class Tensor:
    """A node of the computation graph: data, grad, parents, and a VJP."""

    def __init__(self, data, parents=(), vjp=None, op="", name=""):
        self.data = np.array(data, dtype=np.float64)   # a copy, always float64
        self.grad = None                               # set by backward()
        self.parents = tuple(parents)                  # the inputs of this node
        self.vjp = vjp             # upstream -> one gradient per parent
        self.op, self.name = op, name                  # for printing and figures

    @property
    def shape(self):
        return self.data.shape

    def __repr__(self):
        what = self.name or self.op or "leaf"
        return f"Tensor({what}, shape={self.shape})"

    def backward(self, grad=None):
        """Fill .grad of every node this one depends on, by reverse mode.

        grad is the upstream gradient d(out)/d(self), ones by default (for a
        scalar: d self/d self = 1). Gradients restart from zero on every call.
        """
        order = topological_order(self)
        for node in order:
            node.grad = np.zeros_like(node.data)
        seed = np.ones_like(self.data) if grad is None else grad
        self.grad = np.array(seed, dtype=np.float64).reshape(self.shape)
        for node in reversed(order):             # every consumer before its inputs
            if node.vjp is None:                 # a leaf: nothing further back
                continue
            for parent, g in zip(node.parents, node.vjp(node.grad)):
                parent.grad += g                 # accumulate: one share per use

    # ------------------------------------------------------ binary operations
    def __add__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        return Tensor(self.data + other.data, (self, other),
                      lambda g: (unbroadcast(g, self.shape),
                                 unbroadcast(g, other.shape)), "+")

    def __sub__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        return Tensor(self.data - other.data, (self, other),
                      lambda g: (unbroadcast(g, self.shape),
                                 unbroadcast(-g, other.shape)), "-")

    def __mul__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        a, b = self.data, other.data
        return Tensor(a * b, (self, other),
                      lambda g: (unbroadcast(g * b, self.shape),    # the other
                                 unbroadcast(g * a, other.shape)),  # factor
                      "*")

    def __matmul__(self, other):
        A, B = self.data, other.data             # (N, D) and (D, H)
        if A.ndim != 2 or B.ndim != 2:
            raise ValueError(f"matmul of 2-D tensors only, not {A.shape} @ {B.shape}")
        return Tensor(A @ B, (self, other),
                      lambda g: (g @ B.T,          # (N, H) @ (H, D) -> (N, D)
                                 A.T @ g),         # (D, N) @ (N, H) -> (D, H)
                      "@")

    def __neg__(self):
        return self * -1.0

    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, other):
        return Tensor(other) - self

    # ------------------------------------------------------- unary operations
    def exp(self):
        e = np.exp(self.data)
        return Tensor(e, (self,), lambda g: (g * e,), "exp")

    def log(self):
        x = self.data
        return Tensor(np.log(x), (self,), lambda g: (g / x,), "log")

    def tanh(self):
        t = np.tanh(self.data)
        return Tensor(t, (self,), lambda g: (g * (1 - t**2),), "tanh")

    def relu(self):
        mask = self.data > 0                     # ReLU'(0) taken as 0
        return Tensor(np.where(mask, self.data, 0.0), (self,),
                      lambda g: (np.where(mask, g, 0.0),), "relu")

    def sum(self, axis=None, keepdims=False):
        shape = self.shape

        def vjp(g):                              # every entry got the sum's g
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            return (np.broadcast_to(g, shape).copy(),)

        return Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,),
                      vjp, "sum")

    def mean(self, axis=None):
        n = self.data.size // np.asarray(self.data.sum(axis=axis)).size
        return self.sum(axis=axis) * (1.0 / n)

    def log_softmax(self, axis=-1):
        """A primitive: shifted by the max, so exp never overflows (chapter 4)."""
        z = self.data - self.data.max(axis=axis, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
        return Tensor(logp, (self,), lambda g: (
            g - np.exp(logp) * g.sum(axis=axis, keepdims=True),), "log_softmax")

    def pick(self, labels):
        """Row n's entry at column labels[n]: (N, K) -> (N,), for the NLL loss."""
        rows, labels = np.arange(self.shape[0]), np.asarray(labels)

        def vjp(g):                              # g (N,) goes back to one entry
            out = np.zeros(self.shape)           # per row, zeros elsewhere
            out[rows, labels] = g
            return (out,)

        return Tensor(self.data[rows, labels], (self,), vjp, "pick")
