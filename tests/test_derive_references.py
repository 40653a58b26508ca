"""Every derivation task's reference answer is the derivative: SymPy differentiates the definition.

For each task, the quantity is built from its definition (a loss, a layer, a graph) with fresh
symbols at small distinct sizes, differentiated by SymPy, and compared with the task's reference
answer evaluated by the checker's own evaluator, at random points to 30 digits. A wrong
reference (or a wrong evaluator) fails here, whatever the catalog of slips says.
"""

import random

import pytest
import sympy
from sympy import Matrix, exp, log, tanh

from byhand.derive.equivalence import number, same
from byhand.derive.evaluate import evaluate, relu, sigmoid
from byhand.derive.tasks import BY_NAME


def symbols(name, rows, cols=1, **assumptions):
    return Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{name}_{i}_{j}", **assumptions))


def gradient(scalar, variables):
    return variables.applyfunc(lambda v: sympy.diff(scalar, v))


def softmax(x):
    e = x.applyfunc(exp)
    return e / sum(e)


def softmax_rows(X):
    return Matrix.vstack(*(softmax(X[i, :]) for i in range(X.rows)))


def simplex_rows(name, rows, cols):
    """Symbols whose rows sum to 1 (the last entry of a row is 1 minus the others)."""
    free = symbols(name, rows, cols - 1, positive=True)
    return Matrix.hstack(free, Matrix(rows, 1, lambda i, _: 1 - sum(free[i, :])))


def ones(n):
    return Matrix.ones(n, 1)


def reference(name, env, assignment=None):
    task = BY_NAME[name]
    env = {k: sympy.Integer(v) if isinstance(v, int) else v for k, v in env.items()}
    return evaluate(task.parse(task.reference), task.bind_indices(env, assignment or {}))


# Each returns pairs (the reference as the checker evaluates it, SymPy's derivative).

def vjp_linear(name):
    W, x, v = symbols("W", 3, 2), symbols("x", 2), symbols("v", 3)
    L = (v.T * W * x)[0]
    truth = gradient(L, x) if name == "vjp_linear_input" else gradient(L, W)
    return [(reference(name, {"W": W, "x": x, "v": v, "m": 3, "n": 2}), truth)]


def chain_rule_jacobian(name):
    Jf, Jg, x = symbols("Jf", 3, 2), symbols("Jg", 4, 3), symbols("x", 2)
    composed = Jg * (Jf * x)  # g∘f for the linear maps with these Jacobians
    return [(reference(name, {"Jf": Jf, "Jg": Jg}), composed.jacobian(x))]


def centered_difference_error(name):
    x, h = sympy.Symbol("x", real=True), sympy.Symbol("h", positive=True)
    L = lambda u: u ** 3
    truth = (L(x + h) - L(x - h)) / (2 * h) - sympy.diff(L(x), x)
    return [(reference(name, {"x": x, "h": h}), truth)]


def logsumexp_gradient(name):
    x = symbols("x", 3, real=True)
    S = sum(x.applyfunc(exp))
    env = {"x": x, "S": S, "L": log(S), "K": 3}
    return [(reference(name, env, {"i": i}), sympy.diff(log(S), x[i])) for i in range(3)]


def logsumexp_shift(name):
    x, c = symbols("x", 3, real=True), sympy.Symbol("c", real=True)
    env = {"L": log(sum(x.applyfunc(exp))), "c": c, "N": 3}
    return [(reference(name, env), log(sum((x + c * ones(3)).applyfunc(exp))))]


def softmax_entries(name):
    x = symbols("x", 3, real=True)
    s = softmax(x)
    y = s if name == "softmax_jacobian_entry" else s.applyfunc(log)
    J = y.jacobian(x)
    return [(reference(name, {"s": s, "K": 3}, {"i": i, "j": j}), J[i, j])
            for i in range(3) for j in range(3)]


def softmax_jacobian(name):
    x = symbols("x", 3, real=True)
    s = softmax(x)
    return [(reference(name, {"s": s, "K": 3, "I": sympy.eye(3)}), s.jacobian(x))]


def vjps(name):
    x, v = symbols("x", 3, real=True), symbols("v", 3, real=True)
    s = softmax(x)
    y = s if name == "softmax_vjp" else s.applyfunc(log)
    env = {"s": s, "v": v, "K": 3, "I": sympy.eye(3)}
    return [(reference(name, env), gradient((v.T * y)[0], x))]


def cross_entropy_gradient_p(name):
    p, t = symbols("p", 3, positive=True), simplex_rows("t", 1, 3).T
    loss = -sum(t[k] * log(p[k]) for k in range(3))
    return [(reference(name, {"p": p, "t": t, "K": 3}), gradient(loss, p))]


def softmax_cross_entropy_batch(name):
    X, T = symbols("X", 2, 3, real=True), simplex_rows("T", 2, 3)
    P = softmax_rows(X)
    loss = -sum(T[n, k] * log(P[n, k]) for n in range(2) for k in range(3)) / 2
    return [(reference(name, {"P": P, "T": T, "N": 2, "K": 3}), gradient(loss, X))]


def cross_entropy_any_targets(name):
    x, t = symbols("x", 3, real=True), symbols("t", 3, positive=True)
    p = softmax(x)
    loss = -sum(t[k] * log(p[k]) for k in range(3))
    return [(reference(name, {"p": p, "t": t, "K": 3}), gradient(loss, x))]


def logistic_loss_derivative(name):
    z = sympy.Symbol("z", real=True)
    return [(reference(name, {"z": z}), sympy.diff(log(1 + exp(-z)), z))]


def linear(name):
    X, W, b, G = symbols("X", 2, 3), symbols("W", 3, 4), symbols("b", 4), symbols("G", 2, 4)
    A = X * W + ones(2) * b.T
    E = sum(G[i, j] * A[i, j] for i in range(2) for j in range(4))  # any upstream gradient G
    env = {"X": X, "W": W, "b": b, "dA": G, "N": 2, "D": 3, "H": 4}
    wrt = {"linear_dX": X, "linear_dW": W, "linear_db": b}[name]
    return [(reference(name, env), gradient(E, wrt))]


def sigmoid_derivative(name):
    x = sympy.Symbol("x", real=True)
    env = {"x": x, "s": sigmoid(x), "sigma": sigmoid(x)}
    return [(reference(name, env), sympy.diff(sigmoid(x), x))]


def tanh_backward(name):
    x, dout = sympy.symbols("x dout", real=True)
    return [(reference(name, {"x": x, "dout": dout, "tau": tanh(x)}),
             dout * sympy.diff(tanh(x), x))]


def relu_backward(name):
    p, dout = sympy.Symbol("p", positive=True), sympy.Symbol("dout", real=True)
    pairs = []
    for sign in (1, -1):  # x = ±p: the two sides of the kink
        x = sign * p
        pairs.append((reference(name, {"x": x, "dout": dout}),
                      sign * sympy.diff(dout * sympy.Max(x, 0), p)))
    return pairs


def residual(name):
    V, x, g = symbols("V", 3, 3), symbols("x", 3), symbols("g", 3)
    b1, b2 = symbols("b1", 3), symbols("b2", 3)
    pairs = []
    for mask in ((1, 0, 1), (0, 1, 1)):
        m = Matrix(mask)
        # where the signs of a = Vx + b1 are fixed, relu(a) = diag(m) a
        y = x + sympy.diag(*mask) * (V * x + b1) + b2
        e = (g.T * y)[0]
        wrt = {"residual_input_gradient": x, "residual_weight_gradient": V,
               "residual_bias_gradient": b1}[name]
        env = {"V": V, "x": x, "g": g, "m": m, "I": sympy.eye(3), "D": 3}
        pairs.append((reference(name, env), gradient(e, wrt)))
    return pairs


def fanout_gradient(name):
    M, x, g1, g2 = symbols("M", 3, 2), symbols("x", 2), symbols("g1", 3), symbols("g2", 2)
    e = (g1.T * M * x)[0] + sum(g2[k] * x[k] * x[k] for k in range(2))
    return [(reference(name, {"M": M, "x": x, "g1": g1, "g2": g2, "m": 3, "n": 2}),
             gradient(e, x))]


def square_node(name):
    x, ybar = sympy.symbols("x ybar", real=True)
    return [(reference(name, {"x": x, "ybar": ybar}), sympy.diff(ybar * x * x, x))]


def matmul_gradient(name):
    A, B, G = symbols("A", 2, 3), symbols("B", 3, 4), symbols("G", 2, 4)
    C = A * B
    e = sum(G[i, j] * C[i, j] for i in range(2) for j in range(4))
    return [(reference(name, {"A": A, "B": B, "dC": G}), gradient(e, A))]


def reverse_mode_delta(name):
    z1, W2, d2 = symbols("z1", 3, real=True), symbols("W2", 2, 3), symbols("d2", 2)
    s1 = z1.applyfunc(sigmoid)
    J = (d2.T * (W2 * s1))[0]  # any loss whose gradient at z2 is d2
    return [(reference(name, {"z1": z1, "W2": W2, "d2": d2, "s1": s1}), gradient(J, z1))]


def mnist_output_weight_gradient(name):
    Z2, W3, T = symbols("Z2", 2, 3), symbols("W3", 3, 2), simplex_rows("T", 2, 2)
    P = softmax_rows(Z2 * W3)
    E = -sum(T[n, k] * log(P[n, k]) for n in range(2) for k in range(2)) / 2
    return [(reference(name, {"Z2": Z2, "P": P, "T": T, "N": 2}), gradient(E, W3))]


def mnist_hidden_gradient(name):
    G3, W3, p = symbols("G3", 2, 4), symbols("W3", 3, 4), symbols("p", 2, 3, positive=True)
    signs = Matrix([[1, -1, 1], [-1, -1, 1]])
    A2 = p.multiply_elementwise(signs)
    Z2 = A2.applyfunc(relu)
    E = sum(G3[i, j] * (Z2 * W3)[i, j] for i in range(2) for j in range(4))
    truth = gradient(E, p).multiply_elementwise(signs)  # ∂E/∂A2 = sign ⊙ ∂E/∂p
    env = {"G3": G3, "W3": W3, "A2": A2, "Z2": Z2, "N": 2, "D": 3, "K": 4}
    return [(reference(name, env), truth)]


VERIFY = {
    "vjp_linear_input": vjp_linear, "vjp_linear_weight": vjp_linear,
    "chain_rule_jacobian": chain_rule_jacobian,
    "centered_difference_error": centered_difference_error,
    "logsumexp_gradient": logsumexp_gradient, "logsumexp_shift": logsumexp_shift,
    "softmax_jacobian_entry": softmax_entries, "softmax_jacobian": softmax_jacobian,
    "softmax_vjp": vjps, "log_softmax_jacobian_entry": softmax_entries, "log_softmax_vjp": vjps,
    "cross_entropy_gradient_p": cross_entropy_gradient_p,
    "softmax_cross_entropy_batch": softmax_cross_entropy_batch,
    "cross_entropy_any_targets": cross_entropy_any_targets,
    "logistic_loss_derivative": logistic_loss_derivative,
    "linear_dX": linear, "linear_dW": linear, "linear_db": linear,
    "sigmoid_derivative": sigmoid_derivative, "tanh_backward": tanh_backward,
    "relu_backward": relu_backward,
    "residual_input_gradient": residual, "residual_weight_gradient": residual,
    "residual_bias_gradient": residual,
    "fanout_gradient": fanout_gradient, "square_node": square_node,
    "matmul_gradient": matmul_gradient, "reverse_mode_delta": reverse_mode_delta,
    "mnist_output_weight_gradient": mnist_output_weight_gradient,
    "mnist_hidden_gradient": mnist_hidden_gradient,
}


def as_matrix(value):
    return value if isinstance(value, sympy.MatrixBase) else Matrix([value])


def test_every_task_is_verified():
    assert set(VERIFY) == set(BY_NAME)


@pytest.mark.parametrize("name", sorted(VERIFY))
def test_reference_is_the_derivative(name):
    rng = random.Random(7)
    pairs = VERIFY[name](name)
    free = set()
    for ours, truth in pairs:
        free |= sympy.sympify(ours).free_symbols | sympy.sympify(truth).free_symbols
    for _ in range(3):
        # small positive values keep every row of simplex symbols positive (1 - others > 0)
        point = {s: sympy.Float(rng.uniform(0.05, 0.3), 30) for s in free}
        for ours, truth in pairs:
            ours, truth = as_matrix(ours), as_matrix(truth)
            assert ours.shape == truth.shape, (ours.shape, truth.shape)
            for a, b in zip(ours, truth):
                assert same(number(a, point), number(b, point)), (name, a, b)
