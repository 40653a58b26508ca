"""Turn a syntax tree into SymPy values: numbers and scalar expressions, or explicit matrices.

Every symbol of a task is bound to a value (a SymPy scalar, or an explicit `ImmutableMatrix` of
the task's concrete sizes), and every operator is applied by hand with its shape rules, so a
formula like `diag(s) - s*s^T` becomes a concrete 3 x 3 matrix of SymPy expressions.

Shapes: vectors are columns (n x 1); a 1 x 1 result is a scalar. `A*B` is the matrix product
when the inner sizes agree, the entry-wise product when the shapes are equal (`s*(1 - s)`), and
scaling when either side is a scalar; `@` is only the matrix product, `⊙` only the entry-wise one.
A scalar added to a matrix is added to every entry. Any other shape mismatch is an error that
names both shapes, unless `lenient` is set: then NumPy's broadcasting applies (used only to
recognize a classic mistake such as adding the identity matrix to a vector).

`trace` (a dict) records how each `*` was read, for the "understood as" display.
"""

import sympy
from sympy import ImmutableMatrix

FUNCTIONS = {  # name -> allowed numbers of arguments
    "exp": (1,), "log": (1,), "ln": (1,), "sqrt": (1,), "tanh": (1,), "cosh": (1,), "sinh": (1,),
    "sin": (1,), "cos": (1,), "abs": (1,), "sigma": (1,), "sigmoid": (1,), "relu": (1,),
    "step": (1,), "heaviside": (1,), "max": (2,), "diag": (1,), "sum": (1, 2), "ones": (1,),
    "eye": (1,), "transpose": (1,), "hadamard": (2,), "dot": (2,), "outer": (2,), "sech": (1,),
}


CONSTANTS = {"e": sympy.E, "pi": sympy.pi}  # usable unless a task has a symbol of that name
MAX_EXPONENT = 64
MAX_NUMBER = 1e12
MAX_DIGITS = 30  # of a number as typed, and of its exponent: 1e99999999 is refused on its text
MAX_POWER_DIGITS = 100  # a constant power such as 64^64 is at most 10^±100
MAX_EXP_ARGUMENT = 1000  # exp(exp(1000)) has about 10^434 digits: refused on its argument
MAX_SIZE = 64  # of ones(n) and eye(n): the tasks' sizes are at most 5


def _brief(value):
    """A number for a message: a 116-digit one is summarized, not printed."""
    text = str(value)
    return text if len(text) <= 24 else f"{text[:12]}… ({len(text)} characters)"


class FormulaError(Exception):
    """A formula that cannot be used as it stands (the message says why)."""


class ShapeError(FormulaError):
    """A formula whose shapes do not fit (the message says which)."""


def sigmoid(x):
    return 1 / (1 + sympy.exp(-x))


def iverson(condition):
    """1 where the condition holds, else 0 (an Iverson bracket, as NumPy's boolean masks)."""
    return sympy.Piecewise((1, condition), (0, True))


def compare(relation, x, y):
    """[x > y] and friends; decided at once when the sign of x - y is known (the usual case)."""
    difference = sympy.sympify(x - y)
    if difference.is_positive or difference.is_negative or difference.is_zero:
        sign = 1 if difference.is_positive else (-1 if difference.is_negative else 0)
        holds = {sympy.Gt: sign > 0, sympy.Lt: sign < 0, sympy.Ge: sign >= 0,
                 sympy.Le: sign <= 0}[relation]
        return sympy.Integer(int(holds))
    return iverson(relation(x, y))


def relu(x):
    x = sympy.sympify(x)
    if x.is_nonnegative:
        return x
    if x.is_nonpositive:
        return sympy.Integer(0)
    return sympy.Max(x, 0)


def _power(base, exponent):
    """base^exponent, refused when both are numbers and the result has too many digits, and
    for a variable exponent (except e^...): at a point, (1e12*x)^(1e12*x) is an exact integer
    power with billions of digits."""
    if not exponent.is_number and base != sympy.E:
        raise FormulaError(f"a power whose exponent is not a number ({_brief(exponent)}) is "
                           "not read here; write exp(...) instead")
    if base.is_number and exponent.is_number and base != 0:
        digits = abs(sympy.log(abs(base), 10) * exponent).evalf(15)
        if digits.is_comparable and digits > MAX_POWER_DIGITS:
            shown = f"({_brief(base)})" if base.is_negative else _brief(base)
            raise FormulaError(f"the power {shown}^{_brief(exponent)} is too large or too small "
                               f"to check (about 10^±{_brief(int(digits))}; at most "
                               f"10^±{MAX_POWER_DIGITS} here)")
    return base ** exponent


MAX_INNER_NUMBER = 10 ** 6  # inside exp, log, sin, tanh, ...: sin(2^33*pi*x) would defeat the
# random points (all multiples of 2^-30) and send simplify into minutes; no answer needs more


def _bounded(function, growing=False):
    """An entry-wise function whose argument may hold no number above MAX_INNER_NUMBER; for
    exp, cosh and sinh (`growing`), a number argument is at most MAX_EXP_ARGUMENT."""
    def apply(x):
        x = sympy.sympify(x)
        numbers = [abs(n) for n in x.atoms(sympy.Number) if n.is_finite]
        if numbers and max(numbers) > MAX_INNER_NUMBER:
            raise FormulaError(f"{function.__name__}(...) holds the number {_brief(max(numbers))}"
                               f"; numbers inside a function are at most {MAX_INNER_NUMBER:g} "
                               "here")
        if growing and x.is_number:
            size = abs(x).evalf(15)
            if size.is_comparable and size > MAX_EXP_ARGUMENT:
                raise FormulaError(f"{function.__name__}({_brief(x)}) is too large to check "
                                   f"(its argument is at most {MAX_EXP_ARGUMENT} here)")
        return function(x)
    apply.__name__ = getattr(function, "__name__", "function")
    return apply


def _growing(function):
    return _bounded(function, growing=True)


ELEMENTWISE = {
    "exp": _growing(sympy.exp), "log": _bounded(sympy.log), "ln": _bounded(sympy.log),
    "sqrt": sympy.sqrt, "tanh": _bounded(sympy.tanh), "cosh": _growing(sympy.cosh),
    "sinh": _growing(sympy.sinh), "sin": _bounded(sympy.sin), "cos": _bounded(sympy.cos),
    "sech": lambda x: 1 / _growing(sympy.cosh)(x),
    "abs": sympy.Abs, "sigma": _bounded(sigmoid), "sigmoid": _bounded(sigmoid),
    "relu": relu, "step": lambda x: compare(sympy.Gt, x, 0),
    "heaviside": lambda x: compare(sympy.Gt, x, 0),
}
COMPARE = {">": sympy.Gt, "<": sympy.Lt, ">=": sympy.Ge, "<=": sympy.Le}


def is_matrix(value):
    return isinstance(value, sympy.MatrixBase)


def shape_of(value):
    return value.shape if is_matrix(value) else ()


def describe_shape(value):
    if not is_matrix(value):
        return "a scalar"
    rows, cols = value.shape
    if cols == 1:
        return f"a column of {rows}"
    if rows == 1:
        return f"a row of {cols}"
    return f"a {rows}×{cols} matrix"


def _settle(value):
    """1 x 1 matrices become scalars; other matrices become immutable."""
    if is_matrix(value):
        if value.shape == (1, 1):
            return value[0, 0]
        return ImmutableMatrix(value)
    return value


def _map(function, *values):
    """Apply a scalar function entry by entry (values already of one shape, or scalars)."""
    matrices = [v for v in values if is_matrix(v)]
    if not matrices:
        return function(*values)
    rows, cols = matrices[0].shape

    def entry(i, j):
        return function(*(v[i, j] if is_matrix(v) else v for v in values))

    return ImmutableMatrix(rows, cols, entry)


def inner(a, b):
    return sum((x * y for x, y in zip(a, b)), sympy.Integer(0))


def _broadcast(a, b, what, lenient):
    """a and b brought to one shape for an entry-wise operation, or ShapeError."""
    if not is_matrix(a) or not is_matrix(b) or a.shape == b.shape:
        return a, b
    if not lenient:
        raise ShapeError(f"cannot {what} {describe_shape(a)} and {describe_shape(b)}")
    shape = []
    for x, y in zip(a.shape, b.shape):
        if x != y and 1 not in (x, y):
            raise ShapeError(f"cannot {what} {describe_shape(a)} and {describe_shape(b)}")
        shape.append(max(x, y))

    def stretch(m):
        r, c = m.shape
        return ImmutableMatrix(*shape, lambda i, j: m[i if r > 1 else 0, j if c > 1 else 0])

    return stretch(a), stretch(b)


class Evaluator:
    def __init__(self, env, lenient=False, trace=None):
        self.env, self.lenient = env, lenient
        self.trace = {} if trace is None else trace

    def __call__(self, node):
        return _settle(getattr(self, "op_" + _OP_NAMES.get(node.op, node.op))(node))

    # leaves
    def op_number(self, node):
        # judged on its text first: building 1e99999999 as a Rational, or comparing it with a
        # float, takes minutes
        text = node.args[0]
        mantissa, _, exponent = text.lower().partition("e")
        if len(mantissa.replace(".", "")) > MAX_DIGITS:
            raise FormulaError(f"the number {_brief(text)} has too many digits (at most "
                               f"{MAX_DIGITS} here)")
        if len(exponent.lstrip("+-").lstrip("0")) > 3 or abs(int(exponent or 0)) > MAX_DIGITS:
            size = "small" if exponent.startswith("-") else "large"
            raise FormulaError(f"the number {_brief(text)} is too {size} (its power of ten is "
                               f"at most {MAX_DIGITS} here)")
        value = sympy.Rational(text)
        if abs(value) > MAX_NUMBER:
            raise FormulaError(f"the number {_brief(text)} is too large (at most "
                               f"{MAX_NUMBER:g} here)")
        return value

    def op_name(self, node):
        name = node.args[0]
        return self.env[name] if name in self.env else CONSTANTS[name]

    def op_delta(self, node):
        a, b = node.args
        return sympy.Integer(int(self.env[a] == self.env[b]))

    # operators
    def op_neg(self, node):
        return -self(node.args[0])

    def op_add(self, node, sign=1):
        a, b = self(node.args[0]), self(node.args[1])
        a, b = _broadcast(a, b, "add" if sign > 0 else "subtract", self.lenient)
        return _map(lambda x, y: x + sign * y, a, b)

    def op_sub(self, node):
        return self.op_add(node, -1)

    def op_mul(self, node):
        a, b = self(node.args[0]), self(node.args[1])
        if not is_matrix(a) or not is_matrix(b):
            self.trace[id(node)] = "scalar"
            return _map(lambda x, y: x * y, a, b)
        if a.shape[1] == b.shape[0]:
            self.trace[id(node)] = "matmul"
            return a * b
        if a.shape != b.shape and not self.lenient:
            self.trace[id(node)] = "matmul"  # what a product of unequal shapes must have meant
            raise ShapeError(f"cannot multiply {describe_shape(a)} by {describe_shape(b)}: "
                             f"the inner sizes differ ({a.shape[1]} and {b.shape[0]})")
        self.trace[id(node)] = "hadamard"
        a, b = _broadcast(a, b, "multiply", self.lenient)
        return _map(lambda x, y: x * y, a, b)

    def op_matmul(self, node):
        a, b = self(node.args[0]), self(node.args[1])
        if not is_matrix(a) or not is_matrix(b):
            return _map(lambda x, y: x * y, a, b)
        if a.shape[1] != b.shape[0]:
            raise ShapeError(f"cannot multiply {describe_shape(a)} by {describe_shape(b)}: "
                             "the inner sizes differ")
        return a * b

    def op_dot(self, node):
        """a · b: the inner product of two vectors of one shape, else the same as a * b."""
        a, b = self(node.args[0]), self(node.args[1])
        if is_matrix(a) and is_matrix(b) and a.shape == b.shape and 1 in a.shape:
            self.trace[id(node)] = "inner"
            return inner(a, b)
        return self.op_mul(node)

    def op_hadamard(self, node):
        a, b = _broadcast(self(node.args[0]), self(node.args[1]), "multiply entry by entry",
                          self.lenient)
        return _map(lambda x, y: x * y, a, b)

    def op_div(self, node):
        a, b = _broadcast(self(node.args[0]), self(node.args[1]), "divide", self.lenient)
        return _map(lambda x, y: x / y, a, b)

    def op_pow(self, node):
        base, exponent = self(node.args[0]), self(node.args[1])
        if is_matrix(exponent):
            raise ShapeError("an exponent must be a number, not " + describe_shape(exponent))
        if exponent.is_number and abs(exponent) > MAX_EXPONENT:  # (a + b)^100000 would never end
            raise FormulaError(f"the exponent {_brief(exponent)} is too large (at most "
                               f"{MAX_EXPONENT} here)")
        if is_matrix(base) and 1 not in base.shape:
            raise ShapeError(f"the power of {describe_shape(base)} is ambiguous: write M*M "
                             "for a matrix product or hadamard(M, M) entry by entry")
        return _map(lambda x: _power(x, exponent), base)

    def op_T(self, node):
        if node.args[0].op == "number":
            raise FormulaError(f"{node.args[0].args[0]}ᵀ: a number has no transpose; for the "
                               "vector of ones write ones(N) (or ones(K)), and ones(N)^T")
        value = self(node.args[0])
        return value.T if is_matrix(value) else value

    def op_compare(self, node):
        a, b = _broadcast(self(node.args[0]), self(node.args[1]), "compare", self.lenient)
        relation = COMPARE[node.op]
        return _map(lambda x, y: compare(relation, x, y), a, b)

    def op_call(self, node):
        name, *arguments = node.args
        if name == "ones" or name == "eye":
            size = self(arguments[0])
            if is_matrix(size) or not (size.is_Integer and size > 0):
                raise ShapeError(f"{name}(n) needs a size such as N, not {size}")
            n = int(size)
            if n > MAX_SIZE:  # ones(10^8) would fill the memory
                raise FormulaError(f"{name}({n}) is too large (at most {name}({MAX_SIZE}) here)")
            return ImmutableMatrix.ones(n, 1) if name == "ones" else ImmutableMatrix.eye(n)
        if name == "sum" and len(arguments) == 2:
            return self.sum_along(self(arguments[0]), self(arguments[1]))
        values = [self(a) for a in arguments]
        if name in ELEMENTWISE:
            return _map(ELEMENTWISE[name], values[0])
        if name == "max":
            a, b = _broadcast(*values, "take the maximum of", self.lenient)
            return _map(sympy.Max, a, b)
        if name == "hadamard":
            a, b = _broadcast(*values, "multiply entry by entry", self.lenient)
            return _map(lambda x, y: x * y, a, b)
        if name in ("dot", "outer"):
            a, b = values
            if not (is_matrix(a) and is_matrix(b) and 1 in a.shape and 1 in b.shape):
                raise ShapeError(f"{name}(a, b) takes two vectors, not {describe_shape(a)} and "
                                 f"{describe_shape(b)}")
            if name == "outer":
                return ImmutableMatrix(list(a)) * ImmutableMatrix(list(b)).T
            if len(a) != len(b):
                raise ShapeError(f"dot(a, b) takes two vectors of one length, not "
                                 f"{describe_shape(a)} and {describe_shape(b)}")
            return inner(a, b)
        if name == "transpose":
            return values[0].T if is_matrix(values[0]) else values[0]
        if name == "sum":
            value = values[0]
            return sum(value, sympy.Integer(0)) if is_matrix(value) else value
        if name == "diag":
            value = values[0]
            if not is_matrix(value):
                return value
            if 1 not in value.shape:
                raise ShapeError("diag(...) takes a vector (it builds a diagonal matrix), not "
                                 + describe_shape(value))
            return ImmutableMatrix(sympy.diag(*value))
        raise ShapeError(f"unknown function {name}")  # the parser admits none other

    def sum_along(self, value, axis):
        if axis not in (0, 1):
            raise ShapeError(f"sum(M, axis): the axis is 0 (down the columns) or 1 (along the "
                             f"rows), not {axis}")
        if not is_matrix(value):
            return value
        rows, cols = value.shape
        if axis == 0:  # one sum per column, as NumPy's M.sum(axis=0), kept as a column
            return ImmutableMatrix(cols, 1, lambda j, _: sum(value[:, j], sympy.Integer(0)))
        return ImmutableMatrix(rows, 1, lambda i, _: sum(value[i, :], sympy.Integer(0)))


_OP_NAMES = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul", "⊙": "hadamard",
             "·": "dot",
             "^": "pow", ">": "compare", "<": "compare", ">=": "compare", "<=": "compare"}


def evaluate(node, env, lenient=False, trace=None):
    return Evaluator(env, lenient, trace)(node)
