"""The quantities a task's formula is about: their shapes, domains and constraints.

A `Model` lists variables (each a scalar, a vector or a matrix of the task's sizes, with a domain)
and derived quantities (the softmax s of logits x, say). For given sizes it builds

- a *symbolic* environment: every entry a SymPy symbol with the domain's assumptions, constraints
  substituted (a probability vector's last entry is 1 minus the others), and every 0/1 mask or
  sign pattern fixed to one *case*, so that `A > 0` and `max(A, 0)` resolve symbolically;
- *points*: values for those symbols, first small readable ones (for counterexamples), then
  random ones (to back a verdict).

Domains: "real"; "positive"; "unit" (strictly between 0 and 1); "simplex" (positive entries
summing to 1 along each row, i.e. a probability vector, or a matrix of probability rows);
"mask" (entries 0 or 1); "signed" (nonzero reals whose signs are fixed by the case).
"""

import itertools
import random
from dataclasses import dataclass, field

import sympy
from sympy import ImmutableMatrix, Rational

NICE_REAL = [Rational(1, 2), Rational(-1), Rational(2), Rational(3, 10), Rational(-3, 2),
             Rational(1), Rational(-1, 5), Rational(3, 4), Rational(-2), Rational(2, 5),
             Rational(3, 2), Rational(-7, 10)]
NICE_POSITIVE = [Rational(1, 2), Rational(2), Rational(3, 10), Rational(3, 2), Rational(1),
                 Rational(4, 5), Rational(5, 2), Rational(1, 5)]
NICE_UNIT = [Rational(1, 5), Rational(3, 5), Rational(9, 10), Rational(3, 10), Rational(1, 2),
             Rational(7, 10)]
NICE = {"real": NICE_REAL, "positive": NICE_POSITIVE, "unit": NICE_UNIT}
MAX_CASES = 8  # every mask or sign pattern up to 2^3 of them; beyond that, SPREAD_CASES
SPREAD_CASES = 4  # alternating, its complement (every entry takes both values) and two random


NICE_SIMPLEX = {2: "1/4 3/4", 3: "1/5 3/10 1/2", 4: "1/10 1/5 3/10 2/5",
                5: "1/20 1/10 1/5 1/4 2/5"}


def nice_simplex_row(n, shift=0):
    """Distinct, readable probabilities summing to 1, rotated by `shift`."""
    if n in NICE_SIMPLEX:
        row = [Rational(p) for p in NICE_SIMPLEX[n].split()]
    else:
        total = n * (n + 1) // 2
        row = [Rational(k + 1, total) for k in range(n)]
    return row[shift % n:] + row[:shift % n]


class Point(dict):
    """Exact values of the free symbols (rationals), and the same as 30-digit floats."""

    @property
    def floats(self):
        if not hasattr(self, "_floats"):
            self._floats = {k: sympy.Float(v, 30) for k, v in self.items()}
        return self._floats


@dataclass
class Variable:
    name: str
    shape: tuple = ()  # size names: () scalar, ("K",) column vector, ("N", "D") matrix
    domain: str = "real"


@dataclass
class Model:
    variables: list
    sizes: list  # size sets: the first decides counterexamples; all are checked
    derived: object = None  # function(env) -> dict of more named values
    square: dict = None  # sizes at which shape-mismatched classic mistakes can still be named
    shown: list = field(default_factory=list)  # names shown with a counterexample (default: all)

    def dims(self, variable, sizes):
        dims = [sizes[s] for s in variable.shape] + [1, 1]
        return dims[0], dims[1]

    def patterned(self):
        return [v for v in self.variables if v.domain in ("mask", "signed")]

    def cases(self, sizes, rng=None):
        """Sign/mask patterns: every one when few, else a spread of them (plus random ones)."""
        variables = self.patterned()
        if not variables:
            return [()]
        counts = [self.dims(v, sizes)[0] * self.dims(v, sizes)[1] for v in variables]
        total = sum(counts)
        if 2 ** total <= MAX_CASES:
            flat = list(itertools.product((1, 0), repeat=total))
        else:
            alternating = tuple((k + 1) % 2 for k in range(total))
            flat = [alternating, tuple(1 - b for b in alternating)]
            rng = rng or random.Random(total)
            while len(flat) < SPREAD_CASES:
                flat.append(tuple(rng.randint(0, 1) for _ in range(total)))
        cases = []
        for bits in flat:
            case, start = [], 0
            for count in counts:
                case.append(bits[start:start + count])
                start += count
            cases.append(tuple(case))
        return cases

    def environment(self, sizes, case=()):
        """(env, symbols): every variable and derived value, and the free symbols by domain."""
        env = {name: sympy.Integer(value) for name, value in sizes.items()}
        free = []  # (symbol, domain)
        patterns = dict(zip((v.name for v in self.patterned()), case))
        for variable in self.variables:
            rows, cols = self.dims(variable, sizes)
            pattern = patterns.get(variable.name)
            entries = [[None] * cols for _ in range(rows)]
            for i in range(rows):
                for j in range(cols):
                    label = variable.name + (f"_{i + 1}" if rows > 1 else "") + (
                        f"_{j + 1}" if cols > 1 else "")
                    domain = variable.domain
                    if domain == "mask":
                        entries[i][j] = sympy.Integer(pattern[i * cols + j])
                        continue
                    if domain == "signed":
                        magnitude = sympy.Symbol(label, positive=True)
                        free.append((magnitude, "positive"))
                        entries[i][j] = magnitude if pattern[i * cols + j] else -magnitude
                        continue
                    if domain == "simplex" and self._last_of_row(variable, i, j, rows, cols):
                        continue
                    assumptions = {"real": True} if domain == "real" else {"positive": True}
                    symbol = sympy.Symbol(label, **assumptions)
                    kind = ("simplex", variable.name) if domain == "simplex" else domain
                    free.append((symbol, kind))
                    entries[i][j] = symbol
            if variable.domain == "simplex":  # constraint: each probability vector sums to 1
                if cols == 1:
                    entries[rows - 1][0] = 1 - sum(entries[i][0] for i in range(rows - 1))
                else:
                    for i in range(rows):
                        entries[i][cols - 1] = 1 - sum(entries[i][:cols - 1])
            if rows == cols == 1 and not variable.shape:
                env[variable.name] = entries[0][0]
            else:
                env[variable.name] = ImmutableMatrix(entries)
        if self.derived:
            env.update(self.derived(env))
        return env, free

    @staticmethod
    def _last_of_row(variable, i, j, rows, cols):
        return (cols == 1 and i == rows - 1) or (cols > 1 and j == cols - 1)

    def points(self, env, free, count, rng, denominator=2 ** 30):
        """`count` assignments of the free symbols: the first readable, the others random
        (exact rationals with this denominator)."""
        points = []
        for k in range(count):
            point, simplex_rows = Point(), {}
            for n, (symbol, domain) in enumerate(free):
                if isinstance(domain, tuple):  # an entry of a probability vector
                    simplex_rows.setdefault(domain[1], []).append(symbol)
                    continue
                if k == 0:
                    table = NICE[domain]
                    point[symbol] = table[n % len(table)]
                elif domain == "real":
                    point[symbol] = _float(rng.uniform(-2, 2), denominator)
                elif domain == "positive":
                    point[symbol] = _float(rng.uniform(0.2, 3), denominator)
                else:
                    point[symbol] = _float(rng.uniform(0.05, 0.95), denominator)
            for order, (name, symbols) in enumerate(simplex_rows.items()):
                point.update(self._simplex_point(env[name], symbols, k, rng, order, denominator))
            points.append(point)
        return points

    @staticmethod
    def _simplex_point(matrix, symbols, k, rng, order, denominator=2 ** 30):
        rows, cols = matrix.shape
        vectors = [matrix[:, 0]] if cols == 1 else [matrix[i, :] for i in range(rows)]
        point = {}
        for r, vector in enumerate(vectors):
            n = len(vector)
            if k == 0:
                row = nice_simplex_row(n, shift=r + order)  # rows and variables differ
            else:  # a softmax of random logits: positive, summing to 1
                weights = [rng.lognormvariate(0, 1) for _ in range(n)]
                row = [_float(w / sum(weights), denominator) for w in weights]
            for entry, value in zip(vector, row):
                if entry.is_Symbol:
                    point[entry] = value
        assert set(point) <= set(symbols)
        return point


def _float(x, denominator=2 ** 30):
    """A random draw as an exact rational (by default 30 binary digits), so that evaluation is
    exact or adaptive: SymPy's evalf then meets its 30 digits even through cancellation."""
    return Rational(round(x * denominator), denominator)
