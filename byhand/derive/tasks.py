"""The derivation tasks, chapter by chapter: what to derive, the answer, and the classic slips.

Each task is checked by `byhand.check.derive_<name>(answer)`. To add one: name the quantities
(`Variable`: name, shape in size names, domain), the sizes to check at (distinct sizes, so that
a misplaced transpose is a shape error; `square` sizes let such a slip still be named), the
reference answer and two other correct forms, and the slips in the order they should be tried,
each with the sentence that explains it and the section to reread.
"""

import sympy
from sympy import ImmutableMatrix

from .evaluate import relu, sigmoid
from .models import Model, Variable as V
from .task import Slip, Task


def _identity(size):
    return lambda env: {"I": ImmutableMatrix.eye(int(env[size]))}


K_SIZES = [{"K": 3}, {"K": 4}]
SCALAR = [{}]

TASKS = []


def task(**fields):
    TASKS.append(Task(**fields))


# ---------------------------------------------------------------- chapter 1: Jacobians, VJPs

VJP = "1.3 'Vector-Jacobian products'"

task(name="vjp_linear_input", chapter=1, section=VJP,
     asks="∂L/∂x for a = W x, with upstream gradient v = ∂L/∂a",
     asks_latex=r"\frac{\partial L}{\partial x}\ \text{for}\ a = Wx,\ "
                r"v = \frac{\partial L}{\partial a}",
     symbols={"W": "the m×n weight matrix", "x": "the input (n)",
              "v": "the upstream gradient ∂L/∂a (m)"},
     model=Model([V("W", ("m", "n")), V("x", ("n",)), V("v", ("m",))],
                 sizes=[{"m": 3, "n": 2}, {"m": 2, "n": 4}], square={"m": 3, "n": 3},
                 shown=["W", "v"]),
     reference="W^T*v", also_right=["transpose(W)*v", "(v^T*W)^T", "Wᵀ @ v"],
     slips=[Slip("W*v", "the Jacobian times v instead of its transpose: the VJP is Jᵀv = Wᵀv "
                        "(W v does not even fit unless m = n)"),
            Slip("v^T*W", "the row vᵀW has the right numbers, but a gradient has the shape of "
                          "x, a column: (vᵀW)ᵀ = Wᵀv"),
            Slip("W^T*x", "x instead of the upstream gradient v: the VJP multiplies the "
                          "transposed Jacobian by v = ∂L/∂a"),
            Slip("-W^T*v", "the sign is flipped: ∂L/∂x = Wᵀv")])

task(name="vjp_linear_weight", chapter=1, section=VJP,
     asks="∂L/∂W for a = W x, with upstream gradient v = ∂L/∂a",
     asks_latex=r"\frac{\partial L}{\partial W}\ \text{for}\ a = Wx,\ "
                r"v = \frac{\partial L}{\partial a}",
     symbols={"W": "the m×n weight matrix", "x": "the input (n)",
              "v": "the upstream gradient ∂L/∂a (m)"},
     model=Model([V("W", ("m", "n")), V("x", ("n",)), V("v", ("m",))],
                 sizes=[{"m": 3, "n": 2}, {"m": 2, "n": 4}], square={"m": 3, "n": 3},
                 shown=["x", "v"]),
     reference="v*x^T", also_right=["v @ transpose(x)", "(x*v^T)^T", "v xᵀ"],
     slips=[Slip("x*v^T", "transposed: x vᵀ is n×m, and ∂L/∂W has the shape of W, m×n: "
                          "entry (k, j) is v_k x_j"),
            Slip("v^T*x", "vᵀx is a number (an inner product); ∂L/∂W_kj = v_k x_j is the outer "
                          "product v xᵀ"),
            Slip("W^T*v", "that is ∂L/∂x, the gradient with respect to the input, not the "
                          "weights"),
            Slip("W*x", "that is the forward value a = W x; the weight gradient is v xᵀ")])

task(name="chain_rule_jacobian", chapter=1,
     section="1.2 'The chain rule is a product of Jacobians'",
     asks="the Jacobian of g∘f at x, from J_f (at x) and J_g (at f(x))",
     asks_latex=r"J_{g\circ f}(x)",
     symbols={"Jf": "J_f(x), m×n", "Jg": "J_g(f(x)), p×m"},
     model=Model([V("Jf", ("m", "n")), V("Jg", ("p", "m"))],
                 sizes=[{"n": 2, "m": 3, "p": 4}, {"n": 4, "m": 2, "p": 3}],
                 square={"n": 3, "m": 3, "p": 3}),
     reference="Jg*Jf",
     also_right=["Jg @ Jf", "(Jf^T*Jg^T)^T", "transpose(transpose(Jf)*transpose(Jg))"],
     latex_names={"Jf": "J_f", "Jg": "J_g"},
     slips=[Slip("Jf*Jg", "the wrong order: the last function applied stands leftmost, "
                          "J_g J_f (p×m times m×n)"),
            Slip("Jg + Jf", "a sum: Jacobians add for a sum of functions of one input, and "
                            "multiply for a composition"),
            Slip("Jf^T*Jg^T", "the transpose of the answer (n×p): denominator layout mixed "
                              "into numerator layout"),
            Slip("-Jg*Jf", "the sign is flipped")])

task(name="centered_difference_error", chapter=1, section="1.4 'Gradient checking'",
     asks="(L(x+h) − L(x−h))/(2h) − L'(x) for L(x) = x³, exactly",
     asks_latex=r"\frac{L(x+h)-L(x-h)}{2h} - L'(x)\ \text{for}\ L(x) = x^3",
     symbols={"x": "the point", "h": "the step (h > 0)"},
     model=Model([V("x"), V("h", domain="positive")], sizes=SCALAR),
     reference="h^2", also_right=["h**2", "h*h", "((x + h)^3 - (x - h)^3)/(2*h) - 3*x^2"],
     slips=[Slip("3*x*h + h^2", "that is the error of the forward difference (L(x+h) − L(x))/h; "
                                "in the centered one the even terms cancel"),
            Slip("h^2/6", "the Taylor term is (h²/6)·L'''(x), and L''' = 6 for x³"),
            Slip("0", "the even terms cancel, not the h² term: the centered difference is exact "
                      "only for polynomials of degree 2"),
            Slip("-h^2", "the sign is flipped: the centered difference overestimates x³'s slope")])

# ---------------------------------------------------------------- chapter 2: log-sum-exp

LSE_DERIVATIVE = "2.5 'A stable, vectorized implementation' (its derivative is the softmax)"


def _lse(env):
    x = env["x"]
    S = sum((sympy.exp(v) for v in x), sympy.Integer(0))
    return {"S": S, "L": sympy.log(S)}


task(name="logsumexp_gradient", chapter=2, section=LSE_DERIVATIVE,
     asks="∂LSE/∂x_i, the derivative of L = LSE(x) = log Σ_k e^{x_k}",
     asks_latex=r"\frac{\partial}{\partial x_i}\operatorname{LSE}(x)",
     symbols={"x_i": "the i-th logit", "S": "the sum Σ_k e^{x_k}", "L": "LSE(x) = log S"},
     model=Model([V("x", ("K",))], sizes=K_SIZES, derived=_lse, shown=["x"]),
     indices=("i",), index_size="K", families=("x",),
     reference="exp(x_i)/S", also_right=["exp(x_i - L)", "exp(x_i)*exp(-L)", "exp(x_i)*S^(-1)"],
     slips=[Slip("1/S", "the chain rule through log: (log u)' = u'/u, and the factor "
                        "u' = ∂S/∂x_i = e^{x_i} is missing"),
            Slip("exp(x_i)", "the outer derivative 1/S of the logarithm is missing"),
            Slip("exp(x_i)/L", "divided by LSE(x) instead of by the sum S = e^L"),
            Slip("x_i - L", "that is log softmax, the logarithm of the derivative"),
            Slip("exp(x_i)/S^2", "one factor 1/S too many: (log S)' = S'/S")])

task(name="logsumexp_shift", chapter=2, section="2.3 'The shift identity'",
     asks="LSE(x + c·1) (c added to each of the N entries), in terms of L = LSE(x) and c",
     asks_latex=r"\operatorname{LSE}(x + c\mathbf{1})\ \text{in terms of}\ "
                r"L = \operatorname{LSE}(x)",
     symbols={"L": "LSE(x)", "c": "the shift", "N": "the number of entries"},
     model=Model([V("L"), V("c")], sizes=[{"N": 3}, {"N": 5}], shown=["L", "c"]),
     reference="L + c", also_right=["c + L", "log(exp(L)*exp(c))", "log(exp(L + c))"],
     slips=[Slip("L", "the shift does change the result: every term e^{x_i + c} has the factor "
                      "e^c, which the log turns into + c"),
            Slip("L - c", "the sign: Σ e^{x_i + c} = e^c Σ e^{x_i}, so the log gains + c"),
            Slip("L + N*c", "e^c factors out of the sum once, not once per term: "
                            "log(e^c Σ e^{x_i}) = c + L"),
            Slip("L*exp(c)", "the logarithm turns the factor e^c into a sum, c + L"),
            Slip("c*L", "the logarithm turns the factor e^c into a sum, c + L")])

# ---------------------------------------------------------------- chapter 3: softmax

JACOBIAN3 = "3.4 'The Jacobian, entry by entry'"
VJP3 = "3.5 'The vector-Jacobian product'"
SOFTMAX_SYMBOLS = {"s_i": "softmax(x)_i", "s_j": "softmax(x)_j", "delta_ij": "Kronecker's δ_ij"}

task(name="softmax_jacobian_entry", chapter=3, section=JACOBIAN3,
     asks="∂s_i/∂x_j, entry (i, j) of the softmax Jacobian",
     asks_latex=r"\frac{\partial s_i}{\partial x_j},\ s = \operatorname{softmax}(x)",
     symbols=SOFTMAX_SYMBOLS,
     model=Model([V("s", ("K",), "simplex")], sizes=K_SIZES),
     indices=("i", "j"), index_size="K", families=("s",),
     reference="s_i*(delta_ij - s_j)",
     also_right=["delta_ij*s_i - s_i*s_j", "s_j*(delta(i, j) - s_i)",
                 "delta_ij*(s_i - s_i^2) - (1 - delta_ij)*s_i*s_j", "s_i(δ_ij − s_j)"],
     slips=[Slip("s_i*(delta_ij + s_j)", "the quotient rule with +: (u/v)' = (u'v − uv')/v², "
                                         "with a minus, so the s_i s_j term is subtracted"),
            Slip("-s_i*s_j", "the δ_ij term dropped: for i = j the numerator e^{x_i} depends "
                             "on x_i too, so ∂s_i/∂x_i = s_i − s_i²"),
            Slip("delta_ij*s_i*(1 - s_i)", "only the diagonal: for i ≠ j, s_i still depends on "
                                           "x_j through the sum in the denominator, −s_i s_j"),
            Slip("delta_ij*s_i - s_j^2", "off the diagonal e^{x_j} twice (−s_j²): the "
                                         "numerator e^{x_i} stays, −e^{x_i}e^{x_j}/S² = −s_i s_j"),
            Slip("-s_i*s_j*(1 - delta_ij)", "the diagonal is 0: in the quotient rule the second "
                                            "term is (u/v²)·v', with u = e^{x_i}, not v; "
                                            "(1/v)v' − (v/v²)v' cancels"),
            Slip("delta_ij - s_j", "that is the Jacobian of log-softmax (chapter 4); softmax's "
                                   "has the factor s_i", "4.5 'The Jacobian'", 4)])

task(name="softmax_jacobian", chapter=3, section=JACOBIAN3,
     asks="the softmax Jacobian J = ∂s/∂x as a matrix",
     asks_latex=r"J = \frac{\partial s}{\partial x},\ s = \operatorname{softmax}(x)",
     symbols={"s": "softmax(x), a column of K", "I": "the K×K identity"},
     model=Model([V("s", ("K",), "simplex")], sizes=K_SIZES, derived=_identity("K")),
     reference="diag(s) - s*s^T",
     also_right=["diag(s) - s @ s^T", "diag(s)*(I - ones(K)*s^T)", "-(s sᵀ - diag(s))"],
     slips=[Slip("diag(s) + s*s^T", "the quotient rule with +: the sum sits in the denominator, "
                                    "so J = diag(s) − s sᵀ"),
            Slip("diag(s*(1 - s))", "only the diagonal: every s_i depends on every x_j through "
                                    "the denominator, so off the diagonal J_ij = −s_i s_j"),
            Slip("-s*s^T", "the diagonal's first term is missing: for i = j the numerator "
                           "depends on x_i too, + diag(s)"),
            Slip("diag(s) - s^T*s", "sᵀs is a number (an inner product); the outer product s sᵀ "
                                    "is the K×K matrix of the s_i s_j"),
            Slip("I - ones(K)*s^T", "that is the Jacobian of log-softmax, I − 1sᵀ (chapter 4)",
                 "4.5 'The Jacobian'", 4),
            Slip("diag(s)", "only the diagonal, and without −s_i²: J = diag(s) − s sᵀ")])

task(name="softmax_vjp", chapter=3, section=VJP3,
     asks="Jᵀv, the softmax VJP with upstream gradient v = ∂L/∂s",
     asks_latex=r"J^\top v = \frac{\partial L}{\partial x},\ v = \frac{\partial L}{\partial s}",
     symbols={"s": "softmax(x), a column of K", "v": "the upstream gradient ∂L/∂s (K)"},
     model=Model([V("s", ("K",), "simplex"), V("v", ("K",))], sizes=K_SIZES),
     reference="s*(v - s^T*v)",
     also_right=["s*v - s*(s^T v)", "(diag(s) - s*s^T)*v", "s ⊙ (v - sum(s*v))",
                 "diag(s)*v - s*(v^T*s)"],
     slips=[Slip("s*(1 - s)*v", "softmax treated as entry-wise: s(1 − s)v keeps only the "
                                "Jacobian's diagonal; every s_i depends on every x_j, hence the "
                                "term −s ⟨v, s⟩"),
            Slip("s*(v - sum(v))", "the inner product lost its weights: ⟨v, s⟩ = Σ_j v_j s_j, "
                                   "not Σ_j v_j"),
            Slip("v - s^T*v", "the factor s is missing: Jᵀv = s ⊙ (v − ⟨v, s⟩)"),
            Slip("s*v - sum(v*s^2)", "the off-diagonal terms use s_j twice, −Σ_{j≠i} v_j s_j s_j: "
                                     "the entry J_ji is −s_j s_i, so s_i factors out"),
            Slip("s*(s^T*v - v)", "the sign is flipped: Jᵀv = s ⊙ (v − ⟨v, s⟩)")])

# ---------------------------------------------------------------- chapter 4: log-softmax

task(name="log_softmax_jacobian_entry", chapter=4, section="4.5 'The Jacobian'",
     asks="∂r_i/∂x_j for r = log softmax(x)",
     asks_latex=r"\frac{\partial r_i}{\partial x_j},\ r = \log\operatorname{softmax}(x)",
     symbols=SOFTMAX_SYMBOLS,
     model=Model([V("s", ("K",), "simplex")], sizes=K_SIZES),
     indices=("i", "j"), index_size="K", families=("s",),
     reference="delta_ij - s_j",
     also_right=["delta(i, j) - s_j", "-(s_j - delta_ij)",
                 "delta_ij*(1 - s_j) - (1 - delta_ij)*s_j"],
     slips=[Slip("delta_ij - s_i", "indices swapped: the derivative of LSE with respect to x_j "
                                   "is s_j, the same in every row i (J = I − 1sᵀ is not "
                                   "symmetric)"),
            Slip("1 - s_j", "the δ_ij term dropped: ∂x_i/∂x_j is 1 only for i = j"),
            Slip("-s_j", "the first term dropped: r_i = x_i − LSE(x), and ∂x_i/∂x_j = δ_ij"),
            Slip("s_i*(delta_ij - s_j)", "that is the softmax Jacobian (chapter 3): the "
                                         "logarithm cancels the factor s_i"),
            Slip("(delta_ij - s_j)/s_i", "divided by s_i twice: (1/s_i)·∂s_i/∂x_j = "
                                         "(1/s_i)·s_i(δ_ij − s_j) = δ_ij − s_j")])

task(name="log_softmax_vjp", chapter=4, section="4.6 'The VJP without the Jacobian'",
     asks="Jᵀv for r = log softmax(x), with upstream gradient v = ∂L/∂r",
     asks_latex=r"J^\top v,\ r = \log\operatorname{softmax}(x),\ v = \frac{\partial L}{\partial r}",
     symbols={"s": "softmax(x), a column of K", "v": "the upstream gradient ∂L/∂r (K)",
              "I": "the K×K identity"},
     model=Model([V("s", ("K",), "simplex"), V("v", ("K",))], sizes=K_SIZES,
                 derived=_identity("K")),
     reference="v - s*sum(v)",
     also_right=["v - s*(ones(K)^T*v)", "(I - s*ones(K)^T)*v", "v - sum(v)*s"],
     slips=[Slip("v - s*(sum(v) - v)", "a term dropped in the sum over j ≠ i: the sum runs over "
                                       "all entries, the diagonal's −s_k v_k included"),
            Slip("v - s^T*v", "Jv instead of Jᵀv: J = I − 1sᵀ is not symmetric; "
                              "Jᵀv = v − s Σ_i v_i"),
            Slip("v*(1 - s)", "only the diagonal of J: every output depends on every x_j "
                              "through LSE(x)"),
            Slip("s*(v - s^T*v)", "that is the softmax VJP (chapter 3)"),
            Slip("v - s", "Σ_i v_i is missing (it is 1 only for special upstream gradients)")])

# ---------------------------------------------------------------- chapter 5: cross-entropy

CE53 = "5.3 'Softmax followed by cross-entropy: the gradient p − t'"

task(name="cross_entropy_gradient_p", chapter=5, section="5.1 'Cross-entropy of probabilities'",
     asks="∂ℓ/∂p for ℓ(p) = −Σ_k t_k log p_k",
     asks_latex=r"\frac{\partial \ell}{\partial p},\ \ell = -\sum_k t_k \log p_k",
     symbols={"p": "the probabilities (K)", "t": "the targets (K, summing to 1)"},
     model=Model([V("p", ("K",), "unit"), V("t", ("K",), "simplex")], sizes=K_SIZES),
     reference="-t/p", also_right=["-t*p^(-1)", "-(t/p)", "-hadamard(t, 1/p)"],
     slips=[Slip("t/p", "the sign: the loss has a minus, −t_k/p_k"),
            Slip("-sum(t/p)", "summed: the gradient has one entry per p_k, −t_k/p_k, the "
                              "shape of p"),
            Slip("-1/p", "the target is missing: ∂(−t_k log p_k)/∂p_k = −t_k/p_k"),
            Slip("-t*log(p)", "the terms of the loss, not their derivatives"),
            Slip("-diag(t/p)", "the gradient of a scalar written as a K×K matrix: it has the "
                               "shape of p, a column of K", "1.1 'Shapes first'", 1)])

task(name="softmax_cross_entropy_batch", chapter=5, section="5.4 'The batch mean and its 1/N'",
     asks="∂L/∂X for L = (1/N) Σ_n ℓ_n, P = softmax of the rows of X, targets T",
     asks_latex=r"\frac{\partial L}{\partial X},\ L = -\frac1N\sum_{n,k} T_{nk}\log P_{nk}",
     symbols={"P": "softmax of each row of X (N×K)", "T": "the targets (N×K, rows sum to 1)",
              "N": "the batch size", "K": "the number of classes"},
     model=Model([V("P", ("N", "K"), "simplex"), V("T", ("N", "K"), "simplex")],
                 sizes=[{"N": 2, "K": 3}, {"N": 3, "K": 4}], square={"N": 3, "K": 3}),
     reference="(P - T)/N", also_right=["P/N - T/N", "(1/N)*(P - T)", "-(T - P)/N"],
     slips=[Slip("(T - P)/N", "the sign: that is the gradient of the log-likelihood (the loss "
                              "without its minus); gradient descent on it climbs the "
                              "cross-entropy", "5.5 'The sign convention: a loss is minimized'"),
            Slip("P - T", "missing 1/N: the loss is a mean over the batch"),
            Slip("(P - T)*N", "N where 1/N belongs: the loss is a mean over the batch"),
            Slip("(P - T)/K", "divided by the number of classes K, not the batch size N"),
            Slip("-T/(N*P)", "that is ∂L/∂P; through the softmax the 1/P cancels, leaving "
                             "(P − T)/N", CE53),
            Slip("(P - T)^T/N", "transposed: ∂L/∂X has the shape of X, N×K")])

task(name="cross_entropy_any_targets", chapter=5,
     section="5.7 'Soft targets: label smoothing, and targets that do not sum to 1'",
     asks="∂ℓ/∂x for ℓ = −Σ_k t_k log softmax(x)_k, with targets t ≥ 0 that need not sum to 1",
     asks_latex=r"\frac{\partial \ell}{\partial x},\ \ell = -\sum_k t_k \log p_k,\ "
                r"p = \operatorname{softmax}(x),\ t_k \geq 0",
     symbols={"p": "softmax(x) (K)", "t": "the targets (K, any nonnegative numbers)"},
     model=Model([V("p", ("K",), "simplex"), V("t", ("K",), "positive")], sizes=K_SIZES),
     reference="sum(t)*p - t",
     also_right=["p*sum(t) - t", "(ones(K)^T*t)*p - t", "sum(t)*(p - t) + (sum(t) - 1)*t"],
     slips=[Slip("p - t", "assumes the targets sum to 1: in general the gradient is "
                          "(Σ_k t_k)·p − t, and p − t never vanishes when Σt ≠ 1"),
            Slip("t - sum(t)*p", "the sign is flipped: the loss has a minus"),
            Slip("sum(t)*p", "the term −t is missing: ∂(−t_k x_k)/∂x_j = −t_j"),
            Slip("p*t - t", "p ⊙ t: it is the sum Σ_k t_k that multiplies p, one number")])

task(name="logistic_loss_derivative", chapter=5, section=CE53,
     asks="d/dz log(1 + e^{−z}), the logistic loss of the right class",
     asks_latex=r"\frac{d}{dz}\log\left(1 + e^{-z}\right)",
     symbols={"z": "the logit difference x₁ − x₂"},
     model=Model([V("z")], sizes=SCALAR),
     reference="sigma(z) - 1",
     also_right=["-exp(-z)/(1 + exp(-z))", "-1/(1 + exp(z))", "-sigma(-z)"],
     slips=[Slip("exp(-z)/(1 + exp(-z))", "the inner derivative of e^{−z} is −e^{−z}: "
                                          "the result is σ(z) − 1, negative"),
            Slip("sigma(z)", "−t is missing: p − t = σ(z) − 1 for the right class"),
            Slip("-exp(-z)", "the outer derivative of the log, 1/(1 + e^{−z}), is missing"),
            Slip("-1/(1 + exp(-z))", "the inner derivative of 1 + e^{−z} is −e^{−z}, not −1: "
                                     "−e^{−z}/(1 + e^{−z}) = σ(z) − 1")])

# ---------------------------------------------------------------- chapter 6: the linear layer

LINEAR_THEOREM = "6.3 'The backward pass, index by index'"
LINEAR_MISTAKES = "6.7 'Classic mistakes'"
LINEAR = dict(
    symbols={"X": "the input (N×D)", "W": "the weights (D×H)", "b": "the bias (H)",
             "dA": "the upstream gradient ∂E/∂A (N×H)"},
    model=Model([V("X", ("N", "D")), V("W", ("D", "H")), V("b", ("H",)), V("dA", ("N", "H"))],
                sizes=[{"N": 2, "D": 3, "H": 4}, {"N": 4, "D": 2, "H": 3}],
                square={"N": 3, "D": 3, "H": 3}, shown=["X", "W", "dA"]))

task(name="linear_dX", chapter=6, section=LINEAR_THEOREM,
     asks="dX = ∂E/∂X for A = XW + 1bᵀ",
     asks_latex=r"\frac{\partial E}{\partial X},\ A = XW + \mathbf{1}b^\top",
     reference="dA*W^T", also_right=["dA @ W^T", "(W*dA^T)^T", "transpose(W*transpose(dA))"],
     slips=[Slip("dA*W", "the missing transpose: Σ_j dA_kj W_lj sums W's second index, so W "
                         "enters as Wᵀ", LINEAR_MISTAKES),
            Slip("dA^T*W", "the wrong index summed: a sum over the batch index, where the δ "
                           "should have removed it (as code, dA.T @ W)", LINEAR_MISTAKES),
            Slip("W^T*dA", "the factors in the wrong order: (N×H)(H×D) can only be dA Wᵀ",
                 LINEAR_MISTAKES),
            Slip("X^T*dA", "that is dW, the weight gradient"),
            Slip("W*dA^T", "the upstream gradient transposed (dA is ∂E/∂A entry by entry, "
                           "N×H, never transposed): the result comes out D×N", LINEAR_MISTAKES),
            Slip("dA*W^T/N", "divided by N in the layer: a mean loss puts its 1/N into dA "
                             "already", LINEAR_MISTAKES)],
     **LINEAR)

task(name="linear_dW", chapter=6, section=LINEAR_THEOREM,
     asks="dW = ∂E/∂W for A = XW + 1bᵀ",
     asks_latex=r"\frac{\partial E}{\partial W},\ A = XW + \mathbf{1}b^\top",
     reference="X^T*dA", also_right=["X^T @ dA", "(dA^T*X)^T", "transpose(X)*dA"],
     slips=[Slip("dA*X^T", "the math convention's order copied: for (D×H) the product must be "
                           "(D×N)(N×H), Xᵀ dA", LINEAR_MISTAKES),
            Slip("dA^T*X", "chapter 1's formula in the wrong convention: that is dW_math, H×D, "
                           "the transpose of what W needs", LINEAR_MISTAKES),
            Slip("X^T*dA/N", "divided by N in the layer: a mean loss puts its 1/N into dA "
                             "already", LINEAR_MISTAKES),
            Slip("dA^T*X/N", "transposed and divided by N", LINEAR_MISTAKES),
            Slip("dA*W^T", "that is dX, the input gradient"),
            Slip("X^T*dA^T", "the upstream gradient transposed: dA is ∂E/∂A entry by entry, "
                             "N×H, never transposed", LINEAR_MISTAKES)],
     **LINEAR)

task(name="linear_db", chapter=6, section=LINEAR_THEOREM,
     asks="db = ∂E/∂b for A = XW + 1bᵀ (a column of H)",
     asks_latex=r"\frac{\partial E}{\partial b},\ A = XW + \mathbf{1}b^\top",
     reference="dA^T*ones(N)",
     also_right=["sum(dA, 0)", "transpose(dA) @ ones(N)", "(ones(N)^T*dA)^T"],
     slips=[Slip("ones(N)^T*dA", "the right numbers as a row, 1×H: a gradient has the shape of "
                                 "b, a vector of H", LINEAR_MISTAKES),
            Slip("dA", "not summed: one bias gradient per example, N×H; b is shared by all N "
                       "rows, so its gradient is the sum over the batch", LINEAR_MISTAKES),
            Slip("sum(dA, 1)", "summed along the wrong axis: one number per example; sum over "
                               "the batch (axis 0), the axis b was broadcast along",
                 LINEAR_MISTAKES),
            Slip("sum(dA, 0)/N", "a mean instead of a sum: the bias is used N times, its "
                                 "gradient is the sum of the N shares", LINEAR_MISTAKES)],
     **LINEAR)

# ---------------------------------------------------------------- chapter 7: activations

ACTIVATION_MISTAKES = "7.8 'Classic mistakes'"

task(name="sigmoid_derivative", chapter=7, section="7.4 'sigmoid: σ(1 − σ)'",
     asks="σ'(x), in terms of s = σ(x) (or of x)",
     asks_latex=r"\sigma'(x),\ \sigma(x) = \frac{1}{1+e^{-x}}",
     symbols={"x": "the input", "s": "the output σ(x)", "sigma": "σ(x) (or the function σ)"},
     model=Model([V("x")], sizes=SCALAR,
                 derived=lambda env: {"s": sigmoid(env["x"]), "sigma": sigmoid(env["x"])},
                 shown=["x", "s"]),
     bare_functions=("sigma",),
     reference="s*(1 - s)",
     also_right=["sigma(x)*(1 - sigma(x))", "exp(-x)/(1 + exp(-x))^2", "s - s^2",
                 "sigma*(1 - sigma)"],
     slips=[Slip("1 - s", "σ' = 1 − σ lost the factor σ: σ'(x) = σ(x)(1 − σ(x)); at x = 0 "
                          "that is 1/4, not 1/2", ACTIVATION_MISTAKES),
            Slip("exp(x)/(1 + exp(-x))^2", "the numerator e^{x}: the derivative of 1 + e^{−x} is "
                                           "−e^{−x}", ACTIVATION_MISTAKES),
            Slip("s*(1 + s)", "the sign inside: σ(1 − σ)"),
            Slip("s^2", "σ² is only σ times σ: σ' = σ·(1 − σ)"),
            Slip("-s*(1 - s)", "the sign is flipped: σ increases everywhere")])

task(name="tanh_backward", chapter=7, section="7.3 'tanh: 1 − tanh² of the output'",
     asks="dx = ∂L/∂x for τ = tanh(x), given dout = ∂L/∂τ and the cached output τ (tau)",
     asks_latex=r"\frac{\partial L}{\partial x},\ \tau = \tanh x,\ "
                r"\mathrm{dout} = \frac{\partial L}{\partial \tau}",
     symbols={"dout": "the upstream gradient ∂L/∂τ", "tau": "the cached output tanh(x)",
              "x": "the input"},
     model=Model([V("x"), V("dout")], sizes=SCALAR,
                 derived=lambda env: {"tau": sympy.tanh(env["x"])}, shown=["x", "tau", "dout"]),
     latex_names={"dout": r"\mathrm{dout}"},
     reference="dout*(1 - tau^2)",
     also_right=["dout - dout*tau^2", "dout*(1 - tanh(x)^2)", "dout/cosh(x)^2",
                 "dout*(1 - tau)*(1 + tau)"],
     slips=[Slip("dout*(1 - tanh(tau)^2)", "the derivative at the wrong point: the cache holds "
                                           "the output τ = tanh x, and 1 − tanh²(τ) is tanh' at "
                                           "τ; use 1 − τ²", ACTIVATION_MISTAKES),
            Slip("dout*(1 - tau)", "1 − tanh x: in the quotient rule v' = e^x − e^{−x} "
                                 "(the inner derivative of e^{−x} is −e^{−x})",
                 ACTIVATION_MISTAKES),
            Slip("1 - tau^2", "dout is missing: the backward pass multiplies the local derivative "
                            "by the upstream gradient"),
            Slip("dout*(1 + tau^2)", "the sign: tanh' = 1 − tanh²"),
            Slip("dout*tau^2", "tanh' = 1 − tanh², not tanh²")])

task(name="relu_backward", chapter=7, section="7.2 'ReLU and its mask'",
     asks="dx = ∂L/∂x for out = relu(x) at x ≠ 0, given dout = ∂L/∂out",
     asks_latex=r"\frac{\partial L}{\partial x},\ \mathrm{out} = \max(x, 0),\ x \neq 0",
     symbols={"dout": "the upstream gradient", "x": "the forward input (not 0)"},
     model=Model([V("x", domain="signed"), V("dout")], sizes=SCALAR),
     latex_names={"dout": r"\mathrm{dout}"},
     reference="dout*(x > 0)",
     also_right=["dout*step(x)", "(x > 0)*dout", "dout*relu(x)/x", "dout*heaviside(x)"],
     slips=[Slip("dout", "ReLU's Jacobian taken as the identity: it is diag([x > 0]); having "
                         "no weights says nothing about it", ACTIVATION_MISTAKES),
            Slip("dout*(x < 0)", "the mask has the wrong sign: the gradient passes where x > 0",
                 ACTIVATION_MISTAKES),
            Slip("max(dout, 0)", "a ReLU of the gradient: the mask comes from the forward "
                                 "input x, not from the sign of dout", ACTIVATION_MISTAKES),
            Slip("(x > 0)", "dout is missing: the mask multiplies the upstream gradient")])

# ---------------------------------------------------------------- chapter 8: the residual block

RESIDUAL = dict(
    symbols={"g": "the upstream gradient ∂e/∂z (D)", "V": "the weights (D×D)",
             "m": "the ReLU mask, 1 where Vx + b₁ > 0 and 0 elsewhere (D)",
             "x": "the block's input (D)", "I": "the D×D identity"},
    model=Model([V("V", ("D", "D")), V("x", ("D",)), V("g", ("D",)), V("m", ("D",), "mask")],
                sizes=[{"D": 3}, {"D": 2}], derived=_identity("D")))
RES_BACKWARD = "8.2 'The backward pass: gradients add where paths merge'"
RES_PARAMETERS = "8.3 'Parameter gradients, and what the forward pass must keep'"
RES_MISTAKES = "8.9 'Classic mistakes'"

task(name="residual_input_gradient", chapter=8, section=RES_BACKWARD,
     asks="∂e/∂x for z = x + relu(Vx + b₁) + b₂, with g = ∂e/∂z",
     asks_latex=r"\frac{\partial e}{\partial x},\ z = x + \operatorname{relu}(Vx + b_1) + b_2",
     reference="g + V^T*(m*g)",
     also_right=["g + V^T*diag(m)*g", "(I + diag(m)*V)^T*g", "g + transpose(V) @ (m ⊙ g)",
                 "g + V^T*(m^2*g)"],
     slips=[Slip("V^T*(m*g)", "the skip path is missing: x is used twice, and the gradients of "
                              "the two paths add", RES_MISTAKES),
            Slip("g + V^T*(m*g) + I", "the skip path adds the identity matrix: it contributes "
                                      "its Jacobian times the upstream gradient, I·g = g",
                 RES_MISTAKES),
            Slip("g + V*(m*g)", "V instead of Vᵀ: the VJP is Jᵀg, the Jacobian times the "
                                "gradient is wrong for the dense node", RES_MISTAKES),
            Slip("g + V^T*g", "the mask is missing: ReLU's Jacobian is diag(m), not the "
                              "identity", RES_MISTAKES),
            Slip("g + m*(V^T*g)", "the mask applied after Vᵀ: in the forward pass the ReLU "
                                  "comes after the dense node, so backwards its mask acts "
                                  "first, Vᵀ(m ⊙ g)")],
     **RESIDUAL)

task(name="residual_weight_gradient", chapter=8, section=RES_PARAMETERS,
     asks="∂e/∂V for z = x + relu(Vx + b₁) + b₂, with g = ∂e/∂z",
     asks_latex=r"\frac{\partial e}{\partial V},\ z = x + \operatorname{relu}(Vx + b_1) + b_2",
     reference="(m*g)*x^T",
     also_right=["diag(m)*g*x^T", "(x*(m*g)^T)^T", "hadamard(m, g) @ xᵀ"],
     slips=[Slip("g*x^T", "the mask is missing: the gradient reaching the dense node is "
                          "m ⊙ g", RES_MISTAKES),
            Slip("x*(m*g)^T", "transposed: ∂e/∂V_kj = (m ⊙ g)_k x_j, the outer product with "
                              "the upstream factor first", RES_MISTAKES),
            Slip("V^T*(m*g)", "that is the gradient with respect to the dense node's input "
                              "(its Jacobian V), not its weights"),
            Slip("m*g", "that is ∂e/∂b₁; the weight gradient is the outer product with the "
                        "dense node's input x"),
            Slip("(m*g)*x^T + g*x^T", "the skip path adds nothing to the parameter gradients: "
                                      "it has no parameters")],
     **RESIDUAL)

task(name="residual_bias_gradient", chapter=8, section=RES_PARAMETERS,
     asks="∂e/∂b₁ for z = x + relu(Vx + b₁) + b₂, with g = ∂e/∂z",
     asks_latex=r"\frac{\partial e}{\partial b_1},\ z = x + \operatorname{relu}(Vx + b_1) + b_2",
     reference="m*g", also_right=["diag(m)*g", "g ⊙ m", "hadamard(m, g)"],
     slips=[Slip("g", "the mask is missing: that is ∂e/∂b₂, the bias after the ReLU"),
            Slip("V^T*(m*g)", "Vᵀ belongs to the input's path, not to the bias added after "
                              "the dense node"),
            Slip("m*g + g", "the skip path adds nothing to the parameter gradients: it has no "
                            "parameters"),
            Slip("m", "the upstream gradient g is missing")],
     **RESIDUAL)

# ---------------------------------------------------------------- chapter 9: graphs

FANOUT = "9.2 'The chain rule on a graph: gradients add'"
GRAPH_MISTAKES = "9.10 'Classic mistakes'"

task(name="fanout_gradient", chapter=9, section=FANOUT,
     asks="x̄ = ∂e/∂x when x feeds z₁ = Mx and z₂ = x ⊙ x, with ḡ₁ = ∂e/∂z₁, ḡ₂ = ∂e/∂z₂",
     asks_latex=r"\bar x,\ z_1 = Mx,\ z_2 = x\odot x",
     symbols={"M": "the m×n matrix", "x": "the shared input (n)", "g1": "∂e/∂z₁ (m)",
              "g2": "∂e/∂z₂ (n)"},
     model=Model([V("M", ("m", "n")), V("x", ("n",)), V("g1", ("m",)), V("g2", ("n",))],
                 sizes=[{"m": 3, "n": 2}, {"m": 2, "n": 4}], square={"m": 3, "n": 3}),
     reference="M^T*g1 + 2*x*g2",
     also_right=["M^T*g1 + 2*(x*g2)", "transpose(M) @ g1 + x*g2 + g2*x", "M^T g1 + 2 diag(x) g2"],
     slips=[Slip("M^T*g1", "only the first consumer's share: a value used twice gets a share "
                           "from each consumer, and they add (assigning instead of "
                           "accumulating?)", GRAPH_MISTAKES),
            Slip("2*x*g2", "only the second consumer's share: the shares of all consumers add",
                 GRAPH_MISTAKES),
            Slip("M^T*g1 + x*g2", "the square node sends x ⊙ ḡ₂ to each of its two factors; "
                                  "both are x, so x receives 2x ⊙ ḡ₂"),
            Slip("M*g1 + 2*x*g2", "the Jacobian M instead of its transpose: the VJP is Mᵀḡ₁",
                 GRAPH_MISTAKES),
            Slip("M^T*g1 + 2*x", "the upstream gradient ḡ₂ is missing in the second share")])

task(name="square_node", chapter=9, section=FANOUT,
     asks="x̄ = ∂e/∂x for y = x·x (one multiplication node fed x twice), with ȳ = ∂e/∂y",
     asks_latex=r"\bar x,\ y = x \cdot x",
     symbols={"x": "the input", "ybar": "the upstream gradient ȳ"},
     model=Model([V("x"), V("ybar")], sizes=SCALAR),
     reference="2*x*ybar", also_right=["x*ybar + ybar*x", "ybar*(x + x)", "2 x ybar"],
     slips=[Slip("x*ybar", "one share only: the node sends ȳ·x to each factor, and both are x, "
                           "so the shares add to 2xȳ", GRAPH_MISTAKES),
            Slip("2*x", "the upstream gradient ȳ is missing"),
            Slip("x^2*ybar", "the forward value x², not its derivative"),
            Slip("2*ybar", "the other factor x is missing from each share")])

task(name="matmul_gradient", chapter=9, section="9.6 'Matrix products: where the transposes go'",
     asks="Ā = ∂e/∂A for C = AB, with C̄ = ∂e/∂C",
     asks_latex=r"\bar A,\ C = AB",
     symbols={"A": "N×D", "B": "D×H", "dC": "the upstream gradient C̄ (N×H)"},
     model=Model([V("A", ("N", "D")), V("B", ("D", "H")), V("dC", ("N", "H"))],
                 sizes=[{"N": 2, "D": 3, "H": 4}, {"N": 4, "D": 2, "H": 3}],
                 square={"N": 3, "D": 3, "H": 3}),
     latex_names={"dC": r"\bar C"},
     reference="dC*B^T", also_right=["dC @ B^T", "(B*dC^T)^T", "transpose(B*transpose(dC))"],
     slips=[Slip("dC*B", "B without its transpose (fits only when D = H)", GRAPH_MISTAKES),
            Slip("B^T*dC", "the transposed factor on the wrong side: it goes where it stood, "
                           "to the right of C̄", GRAPH_MISTAKES),
            Slip("A^T*dC", "the other operand's formula: Aᵀ C̄ is B̄", GRAPH_MISTAKES),
            Slip("dC*A^T", "the operand being differentiated in its own gradient: Ā = C̄ Bᵀ")])


def _sigmoid_layer(env):
    return {"s1": env["z1"].applyfunc(sigmoid)}


task(name="reverse_mode_delta", chapter=9,
     section="9.9 'Reverse mode, written out: what to reuse'",
     asks="δ¹ = ∂ℓ/∂ẑ¹ for ẑ² = W²σ(ẑ¹) + b², with σ the sigmoid and δ² = ∂ℓ/∂ẑ²",
     asks_latex=r"\delta^{1} = \frac{\partial \ell}{\partial \hat z^{1}},\ "
                r"\hat z^{2} = W^{2}\sigma(\hat z^{1}) + b^{2}",
     symbols={"d2": "δ² = ∂ℓ/∂ẑ² (n2)", "W2": "W² (n2×n1)", "z1": "ẑ¹ (n1)",
              "s1": "σ(ẑ¹), the cached output (n1)"},
     model=Model([V("z1", ("n1",)), V("W2", ("n2", "n1")), V("d2", ("n2",))],
                 sizes=[{"n1": 3, "n2": 2}, {"n1": 2, "n2": 4}], square={"n1": 3, "n2": 3},
                 derived=_sigmoid_layer),
     latex_names={"d2": r"\delta^{2}", "W2": "W^{2}", "z1": r"\hat z^{1}", "s1": r"s^{1}"},
     reference="s1*(1 - s1)*(W2^T*d2)",
     also_right=["(W2^T*d2)*s1*(1 - s1)", "diag(s1*(1 - s1))*W2^T*d2",
                 "sigma(z1)*(1 - sigma(z1))*(W2^T @ d2)"],
     slips=[Slip("(1 - s1)*(W2^T*d2)", "σ' written as 1 − σ: σ' = σ(1 − σ)",
                 ACTIVATION_MISTAKES, 7),
            Slip("s1*(1 - s1)*(W2*d2)", "W² instead of W²ᵀ: a VJP multiplies by the transposed "
                                        "Jacobian", GRAPH_MISTAKES),
            Slip("W2^T*d2", "σ' is missing: the sigmoid's Jacobian diag(σ'(ẑ¹)) is not the "
                            "identity"),
            Slip("sigma(s1)*(1 - sigma(s1))*(W2^T*d2)", "the derivative at the wrong point: σ' "
                                                       "evaluated at the output σ(ẑ¹) instead "
                                                       "of at ẑ¹", ACTIVATION_MISTAKES, 7),
            Slip("z1*(1 - z1)*(W2^T*d2)", "σ(1 − σ) applied to the pre-activation ẑ¹ instead of "
                                          "to σ(ẑ¹)")])

# ---------------------------------------------------------------- chapter 10: MNIST

MNIST_NETWORK = "10.2 'The network, assembled from the book's layers'"
MNIST_SIZES = [{"N": 2, "D": 3, "K": 4}, {"N": 3, "D": 2, "K": 3}]

task(name="mnist_output_weight_gradient", chapter=10, section=MNIST_NETWORK,
     asks="∂E/∂W³ for A³ = Z²W³ + 1b³ᵀ and E the mean cross-entropy of softmax(A³) and T",
     asks_latex=r"\frac{\partial E}{\partial W^{3}},\ A^{3} = Z^{2}W^{3} + \mathbf{1}b^{3\top}",
     symbols={"Z2": "the last hidden layer's output Z² (N×D)", "P": "softmax of A³'s rows (N×K)",
              "T": "the targets (N×K), rows of probabilities: one-hot for labels", "N": "the batch size"},
     model=Model([V("Z2", ("N", "D")), V("P", ("N", "K"), "simplex"),
                  V("T", ("N", "K"), "simplex")],
                 sizes=MNIST_SIZES, square={"N": 3, "D": 3, "K": 3}),
     latex_names={"Z2": "Z^{2}"},
     reference="Z2^T*(P - T)/N",
     also_right=["Z2^T*P/N - Z2^T*T/N", "(1/N)*Z2^T @ (P - T)", "((P - T)^T*Z2)^T/N"],
     slips=[Slip("Z2^T*(P - T)", "missing 1/N: the loss is the mean over the batch",
                 "5.4 'The batch mean and its 1/N'", 5),
            Slip("Z2^T*(T - P)/N", "the sign: T − P is the gradient of the log-likelihood, "
                                   "the loss without its minus",
                 "5.5 'The sign convention: a loss is minimized'", 5),
            Slip("(P - T)^T*Z2/N", "the math convention's weight gradient, K×D: the book's "
                                   "W³ is D×K, so (Z²)ᵀ G³", "6.1 'Two conventions for one layer'",
                 6),
            Slip("Z2*(P - T)/N", "Z² without its transpose: (D×K) comes from (D×N)(N×K)"),
            Slip("Z2^T*(P - T)/(N*K)", "divided by K too: only the batch mean puts a 1/N")])

task(name="mnist_hidden_gradient", chapter=10, section=MNIST_NETWORK,
     asks="G² = ∂E/∂A² for Z² = relu(A²), A³ = Z²W³ + 1b³ᵀ, given G³ = ∂E/∂A³",
     asks_latex=r"G^{2} = \frac{\partial E}{\partial A^{2}},\ Z^{2} = \operatorname{relu}(A^{2})",
     symbols={"G3": "∂E/∂A³ (N×K)", "W3": "W³ (D×K)", "A2": "the pre-activation A² (N×D, no "
              "entry 0)", "Z2": "relu(A²) (N×D)"},
     model=Model([V("G3", ("N", "K")), V("W3", ("D", "K")), V("A2", ("N", "D"), "signed")],
                 sizes=MNIST_SIZES, square={"N": 3, "D": 3, "K": 3},
                 derived=lambda env: {"Z2": env["A2"].applyfunc(relu)}),
     latex_names={"G3": "G^{3}", "W3": "W^{3}", "A2": "A^{2}", "Z2": "Z^{2}"},
     reference="(G3*W3^T)*(A2 > 0)",
     also_right=["(A2 > 0)*(G3*W3^T)", "hadamard(G3 @ W3^T, Z2 > 0)", "G3*W3^T*step(A2)"],
     slips=[Slip("G3*W3^T", "the ReLU's mask is missing: its Jacobian is diag(1[A² > 0])",
                 "7.8 'Classic mistakes'", 7),
            Slip("(G3*W3^T)*(G3*W3^T > 0)", "the mask taken from the upstream gradient (a "
                                             "ReLU of the gradient): it comes from the forward "
                                             "pre-activation A²",
                 "10.7 'Classic mistakes'"),
            Slip("(G3*W3)*(A2 > 0)", "W³ without its transpose: (N×D) comes from (N×K)(K×D)",
                 "6.7 'Classic mistakes'", 6),
            Slip("(G3*W3^T)*(A2 < 0)", "the mask has the wrong sign: the gradient passes where "
                                       "A² > 0", "7.8 'Classic mistakes'", 7),
            Slip("G3*W3^T*(A2 > 0)/N", "an extra 1/N: the mean's 1/N is already inside G³",
                 "6.7 'Classic mistakes'", 6)])

BY_NAME = {t.name: t for t in TASKS}
assert len(BY_NAME) == len(TASKS), "two tasks share a name"
