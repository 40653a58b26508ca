"""Decide whether a student's formula equals a task's answer, and say why not when it does not.

For every size set of the task, every sign/mask case and every index pair, the formula and the
reference become concrete SymPy values (scalars or matrices) over symbols with the task's
assumptions and constraints. Then:

1. **Numbers first.** Both are evaluated to 30 significant digits at a readable point and at
   random points (exact rationals) of every case and size set, at least seven in all: quickly in
   30-digit floats, and where those differ, again from the exact point with SymPy's adaptive
   `evalf` (mpmath), so that cancellation in floating point never fails a right answer. Any
   entry that still differs is a counterexample: the answer is wrong, and the message shows the
   point, both values, and the classic mistake the answer matches, if any.
2. **Symbols second.** If all the numbers agree, every entry of the difference must reduce to 0
   (expansion, cancellation of rational functions, exponentials rewritten, then `simplify`, all
   under the task's assumptions). A difference that reduces to a nonzero constant is a wrong
   answer (wrong by less than 30 digits show). Where SymPy cannot decide (in its time budget, or
   because the constraint that makes a square root's argument positive is beyond its
   assumptions), the values must also agree to 100 digits at every point and at fresh points
   drawn from a seed made of the answer's own text (a formula cannot be built to vanish at
   points it does not know); then the answer passes and the verdict says that it rests on
   numbers. An answer never passes on one point.
3. **Thresholds.** Numbers at random points cannot see a wrong threshold (`x > 0.1` where the
   answer needs `x > 0`: no point may fall between). So where an undecided difference holds a
   comparison, an `abs`, a `max` or a step, every value at which it switches is found (a root of
   a polynomial in one symbol, the others held at a point), and the formula is compared just
   below and just above it. A switch that cannot be located is refused, not passed.
4. **Sizes.** Every formula is also checked at one more size set, the last one grown by 1 to 3
   (seeded by the answer's text): (N - 2)(N - 3)·P vanishes at N = 2 and 3, but not there. A
   formula is checked at finitely many sizes: one built to be wrong only at sizes beyond them,
   such as (N > 7)·P, is not caught.

Constraints are built into the symbols (a probability vector's last entry is 1 minus the others),
so both the symbols and every point lie on the constraint surface: a formula that is right only
there, such as s ⊙ (v Σ_j s_j − ⟨v, s⟩) for the softmax VJP, is right, as the book's softmax
outputs always sum to 1. Where a task has no such constraint (targets that need not sum to 1),
the symbols are free, and an answer that assumes the constraint (p − t) is wrong at points off
the surface, and is named as that slip.
"""

import hashlib
import random
import time
from dataclasses import dataclass

import sympy

from byhand.failure import CheckFailed

from .evaluate import FormulaError, ShapeError, describe_shape, evaluate, is_matrix
from .show import render
from .sympy_input import to_text

DIGITS = 30
TOLERANCE = sympy.Float("1e-20", DIGITS)
RANDOM_POINTS = 6  # at least, over all cases and size sets, besides the readable points
SEED = 1414
# A safety net only, never reached by a sane answer: the simplifications are bounded by size
# (SIMPLIFY_OPS, EXPAND_POWER), so verdicts do not depend on how busy the machine is (a 2 s
# budget made right answers "undecided" on a loaded CI machine).
SYMBOLIC_SECONDS = 30.0
SIMPLIFY_OPS = 120  # larger differences are not given to simplify
EXPAND_POWER = 12  # nor are powers of sums above this to expand
PRECISE_DIGITS = 100  # where SymPy cannot decide, values must agree to this many digits
PRECISE_TOLERANCE = sympy.Float("1e-90", PRECISE_DIGITS)
FRESH_POINTS = 3  # more random points per case where SymPy cannot decide, seeded by the answer
MAX_SWITCH_DEGREE = 6  # a switch where a polynomial of at most this degree changes sign
SWITCH_STEP = sympy.Rational(1, 10 ** 6)  # how far below and above a switch to compare


@dataclass
class Verdict:
    text: str  # the formula as understood, plain text
    latex: str
    symbolic: bool  # every entry of the difference simplified to 0
    points: int  # how many points agreed


@dataclass
class _Item:
    group: int  # index into groups: (sizes, case, env, free, points)
    assignment: dict
    student: object
    truth: object


def entries(value):
    return list(value) if is_matrix(value) else [value]


def number(expr, point, precise=False):
    """expr at the point, to 30 digits: quickly in 30-digit floats, or, when `precise`, from
    the exact rational point with SymPy's adaptive evalf (right even through cancellation)."""
    values = point if precise or not hasattr(point, "floats") else point.floats
    return sympy.N(sympy.sympify(expr).xreplace(values), DIGITS)


def finite(value):
    value = sympy.sympify(value)
    return bool(value.is_number) and not value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo)


def same(a, b):
    a, b = sympy.sympify(a), sympy.sympify(b)
    if not (finite(a) and finite(b)):
        return False
    return abs(a - b) <= TOLERANCE * max(1, abs(a), abs(b))


# reduce_difference on differences already seen, up to the names of their symbols: a task's
# entries at every index pair and size set are mostly one difference with other subscripts,
# and simplify() may take half a second on each (30 s for one wrong answer with a sine in it).
_REDUCED = {}
_REDUCED_MAX = 4096


def reduce_difference(expr):
    """0 if SymPy can show expr == 0; else the simplest form it reached (not a proof of
    anything unless it is a nonzero number)."""
    expr = sympy.sympify(expr)
    symbols = sorted(expr.free_symbols, key=str)
    if not all(type(symbol) is sympy.Symbol for symbol in symbols):
        return _reduce_difference(expr)
    # Renaming symbols one-to-one, assumptions kept, changes nothing SymPy can prove.
    canonical = {symbol: sympy.Symbol(f"_reduce{k}", **symbol.assumptions0)
                 for k, symbol in enumerate(symbols)}
    key = expr.xreplace(canonical)
    if key not in _REDUCED:
        if len(_REDUCED) >= _REDUCED_MAX:
            _REDUCED.clear()
        _REDUCED[key] = _reduce_difference(key)
    reduced = _REDUCED[key]
    if reduced == 0:
        return 0
    return reduced.xreplace({new: old for old, new in canonical.items()})


def _reduce_difference(expr):
    reduced = expr
    if any(power.base.is_Add and power.exp.is_Integer and abs(power.exp) > EXPAND_POWER
           for power in expr.atoms(sympy.Pow)):
        return expr  # expanding (a + b)^64 takes seconds: the numbers decide instead
    for attempt in (sympy.expand,
                    lambda e: sympy.cancel(sympy.together(sympy.expand(e))),
                    lambda e: sympy.cancel(sympy.expand(e.rewrite(sympy.exp), power_exp=True)),
                    sympy.simplify):
        if reduced == 0:
            return 0
        if attempt is sympy.simplify and (sympy.count_ops(expr) > SIMPLIFY_OPS
                                          or expr.has(sympy.Piecewise)):
            # simplify can take minutes on a large expression, or solving the inequalities of
            # a comparison (x^64 - ... > 0): the numbers and the switch probes decide instead
            break
        try:
            reduced = attempt(expr)
        except Exception:  # a simplification that fails decides nothing
            continue
    return 0 if reduced == 0 else reduced


def vanishes(expr):
    """True if SymPy can show expr == 0."""
    return reduce_difference(expr) == 0


def as_text(answer):
    """The answer as a string: a string as given, a SymPy object printed by SymPy."""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, (sympy.Basic, sympy.MatrixBase)):
        return to_text(answer)
    if isinstance(answer, (int, float)):
        return repr(answer)
    raise CheckFailed(f"expected your formula as a string (or a SymPy expression), got "
                      f"{type(answer).__name__}")


class Judge:
    def __init__(self, task, answer):
        self.task, self.answer = task, answer
        self.rng = random.Random(SEED)
        self.reference = task.parse(task.reference)

    def __call__(self):
        text = as_text(self.answer)
        if not text.strip():
            names = ", ".join(self.task.symbols)
            raise CheckFailed(f"{self.task.check_name}: not answered yet: write your formula for "
                              f"{self.task.short} in the string answer = \"...\", in the "
                              f"symbols {names}", self.task.hint())
        tree = self.task.parse(text)
        self.tree, self.trace = tree, {}
        self.groups = self.build_groups(_seed(text) if self.task.model.sizes[0] else None)
        items = self.items = self.evaluate(tree)
        agreed = self.compare_numbers(items)
        undecided = self.compare_symbols(items)
        if undecided:
            self.probe_switches(items, undecided)
            agreed += self.add_fresh_points(text)
            self.confirm_precisely(undecided)
        return Verdict(self.understood(), self.understood(latex=True), not undecided, agreed)

    def compare_symbols(self, items):
        """The entries whose difference SymPy could not reduce to 0 (in its time budget)."""
        deadline = time.perf_counter() + SYMBOLIC_SECONDS
        undecided = []
        for item in items:
            for s, t in zip(entries(item.student), entries(item.truth)):
                reduced = reduce_difference(s - t) if time.perf_counter() < deadline else None
                if reduced == 0:
                    continue
                if reduced is not None and reduced.is_number and reduced.is_zero is False:
                    self.fail(f"{self.head()}\n  your formula differs from the right one by "
                              f"the constant {sympy.N(reduced, 6)} (too small to show in 30 "
                              "digits, but not 0)", None)
                if reduced is not None and _surely_nonzero(reduced):
                    self.fail(f"{self.head()}\n  your formula differs from the right one by "
                              f"{_brief_expression(reduced)}, which is not 0 (too small to show "
                              "in 30 digits at the points tried)", None)
                undecided.append((item, s, t))
        return undecided

    def add_fresh_points(self, text):
        """More random points for every case, from a seed made of the answer's text: unknown
        to whoever writes the answer, yet the same verdict every time for the same answer."""
        rng = random.Random(_seed(text))
        # not multiples of 2^-30 like the others: sin(2^30*pi*x) vanishes at all of those
        denominator = rng.randrange(10 ** 9, 2 * 10 ** 9) | 1
        added = 0
        for sizes, case, env, free, points in self.groups:
            fresh = self.task.model.points(env, free, FRESH_POINTS + 1, rng, denominator)[1:]
            points.extend(fresh)  # the readable point stays first, for messages
            added += len(fresh)
        return added

    def confirm_precisely(self, undecided):
        """Where SymPy could not decide: the values must agree to 100 digits, exactly computed."""
        for item, s, t in undecided:
            for k, point in enumerate(self.groups[item.group][4]):
                a = sympy.N(sympy.sympify(s).xreplace(point), PRECISE_DIGITS)
                b = sympy.N(sympy.sympify(t).xreplace(point), PRECISE_DIGITS)
                if not (finite(a) and finite(b)) or abs(a - b) > PRECISE_TOLERANCE * max(
                        1, abs(a), abs(b)):
                    if not same(number(s, point, precise=True), number(t, point, precise=True)):
                        self.fail_value(self.items, item, k, self.position(item, s), a, b)
                    self.fail(f"{self.head()}\n  your formula differs from the right one by "
                              f"{sympy.N(a - b, 6)} at {self.describe_point(item.group, k)} "
                              "(too little to show in 30 digits, but not 0)", None)

    @staticmethod
    def position(item, entry):
        return next((n for n, e in enumerate(entries(item.student)) if e is entry), 0)

    # -------------------------------------------------------------- thresholds

    def probe_switches(self, items, undecided):
        """Compare inside every interval between the values where a comparison, abs, max or
        step in an undecided difference switches: random points alone would never land
        between x > 0 and x > 0.1."""
        for item, s, t in undecided:
            switches = _switching(sympy.sympify(s - t))
            if not switches:
                continue
            sizes, case, env, free, points = self.groups[item.group]
            domains = dict(free)
            for base in points[:2]:  # the readable point and a random one
                symbols = set().union(*(e.free_symbols for e in switches)) & set(domains)
                for symbol in sorted(symbols, key=str):
                    path = _path(env, domains[symbol], symbol, base)
                    roots = sorted({r for e in switches if e.xreplace(path).has(symbol)
                                    for r in self.switch_roots(e, symbol, base, path)})
                    for value in _probes(roots, *_bounds(domains[symbol])):
                        point = type(base)(base)
                        point.update({k: v.subs(symbol, value) for k, v in path.items()})
                        point[symbol] = value
                        if not self.in_domain(env, domains[symbol], value, point):
                            continue
                        # to 100 digits: past a wrong cut-off the truth may be tiny (1e-26),
                        # or tinier than 100 digits show (4e-174): then one side is exactly 0
                        # and SymPy proves the other is not
                        exact_a = sympy.sympify(s).xreplace(point)
                        exact_b = sympy.sympify(t).xreplace(point)
                        a = sympy.N(exact_a, PRECISE_DIGITS)
                        b = sympy.N(exact_b, PRECISE_DIGITS)
                        one_zero = {exact_a.is_zero, exact_b.is_zero} == {True, False}
                        if one_zero or not (finite(a) and finite(b)) or abs(
                                a - b) > PRECISE_TOLERANCE * max(1, abs(a), abs(b)):
                            points.append(point)
                            self.fail_value(items, item, len(points) - 1,
                                            self.position(item, s), a, b)

    def switch_roots(self, expression, symbol, base, path=None):
        """The real values of `symbol` where `expression` changes sign, the other symbols held
        at `base` or moved along `path`; CheckFailed if they cannot be found."""
        others = {k: v for k, v in base.items() if k != symbol}
        others.update(path or {})
        expression = sympy.sympify(expression).xreplace(others)
        poly = None
        try:
            poly = sympy.Poly(sympy.together(expression).as_numer_denom()[0], symbol)
        except sympy.PolynomialError:
            pass
        if poly is not None and poly.free_symbols <= {symbol}:
            if poly.degree() <= MAX_SWITCH_DEGREE:
                return [sympy.N(r, DIGITS) for r in poly.real_roots()] if poly.degree() else []
        elif sympy.count_ops(expression) <= SIMPLIFY_OPS:  # abs(x) < 30, exp(x) > 2
            roots = _solve_over_reals(expression, symbol)
            if roots is not None:
                return roots
        self.fail(f"{self.head()}\n  cannot be checked: it switches where "
                  f"{_plain(expression)} changes sign, and that value cannot be located "
                  "exactly. The right formula needs no such condition: write it with the "
                  "task's symbols and its cases (such as x > 0)", None)

    @staticmethod
    def in_domain(env, domain, value, point):
        if domain == "positive" and not value > 0:
            return False
        if domain == "unit" and not 0 < value < 1:
            return False
        if isinstance(domain, tuple):  # a probability: every entry of its vector stays positive
            return all(number(e, point) > 0 for e in entries(env[domain[1]]))
        return True

    # -------------------------------------------------------------- building the values

    def build_groups(self, seed=None):
        """One group per size set and case, and, from `seed`, one more size set the formula
        cannot know (the last one grown by 1 to 3): a formula built to vanish at the task's
        sizes, (N - 2)*X or (sum(ones(N)) - 3)*X, does not vanish there."""
        model = self.task.model
        size_sets = list(model.sizes)
        if seed is not None:
            size_sets.append({name: value + 1 + seed % 3 for name, value in size_sets[-1].items()})
        settings = [(sizes, case) for sizes in size_sets for case in model.cases(sizes)]
        count = 1 + max(2, -(-RANDOM_POINTS // len(settings)))  # a readable point, then random
        groups = []
        for sizes, case in settings:
            env, free = model.environment(sizes, case)
            groups.append((sizes, case, env, free, model.points(env, free, count, self.rng)))
        return groups

    def evaluate(self, tree):
        """One _Item per group and index assignment; ShapeError becomes a failure message."""
        items = []
        for g, (sizes, case, env, free, points) in enumerate(self.groups):
            for assignment in self.task.index_assignments(sizes):
                bound = self.task.bind_indices(env, assignment)
                truth = evaluate(self.reference, bound)
                try:
                    student = evaluate(tree, bound, trace=self.trace)
                except ShapeError as error:
                    self.fail_shape(str(error), sizes)
                except FormulaError as error:
                    self.fail(f"{self.head()}\n  {error}", None)
                if (is_matrix(student) or is_matrix(truth)) and (
                        getattr(student, "shape", ()) != getattr(truth, "shape", ())):
                    self.fail_wrong_shape(student, truth, sizes)
                items.append(_Item(g, assignment, student, truth))
        return items

    # -------------------------------------------------------------- numbers

    def compare_numbers(self, items):
        for k in range(len(self.groups[0][4])):  # the readable points first
            for item in items:
                point = self.groups[item.group][4][k]
                for position, (s, t) in enumerate(zip(entries(item.student), entries(item.truth))):
                    a, b = number(s, point), number(t, point)
                    if same(a, b):
                        continue
                    a, b = number(s, point, precise=True), number(t, point, precise=True)
                    if not same(a, b):  # not a rounding artefact of the fast floats
                        self.fail_value(items, item, k, position, a, b)
        return sum(len(group[4]) for group in self.groups)

    # -------------------------------------------------------------- messages

    def understood(self, latex=False):
        return render(self.tree, latex=latex, trace=self.trace, names=self.task.latex_names)

    def head(self):
        head = (f"{self.task.check_name}: your formula is not {self.task.asks}.\n"
                f"  understood as: {self.understood()}")
        for name in self.task.bare_functions:
            if _calls(self.tree, name):
                head += (f"\n  ({name}(...) is read as the function {name} applied to what is "
                         f"in the parentheses; for a product write {name}*(...))")
        return head

    def describe_point(self, group, k):
        sizes, case, env, free, points = self.groups[group]
        point = points[k]
        shown = self.task.model.shown or [v.name for v in self.task.model.variables]
        parts = []
        for name in shown:
            parts.append(f"{name} = {_format(env[name], point)}")
        return ", ".join(parts)

    def fail_value(self, items, item, k, position, yours, right):
        where = self.describe_point(item.group, k)
        at = ""
        sizes = self.groups[item.group][0]
        if sizes != self.groups[0][0]:  # another size set: say which
            at = "sizes " + ", ".join(f"{n} = {v}" for n, v in sizes.items()) + "; "
        if item.assignment:
            at += ", ".join(f"{i} = {v + 1}" for i, v in item.assignment.items()) + ", "
        entry = ""
        if is_matrix(item.truth):
            rows, cols = item.truth.shape
            r, c = divmod(position, cols)
            entry = (f"entry {r + 1} of " if cols == 1 else f"entry ({r + 1}, {c + 1}) of ")
        if not finite(yours):
            got = "no finite number (a division by zero, or the log of 0?)"
        else:
            got = _short(yours)
        message = (f"{self.head()}\n  counterexample: at {at}{where}:\n"
                   f"    {entry}your formula gives {got}, the right value is {_short(right)}")
        if finite(yours) and got == _short(right):  # equal to 6 digits: say by how much not
            message += f" (they differ by {sympy.N(yours - right, 6)})"
        slip = self.match_slip(items)
        diagnosis = slip.mistake if slip else self.diagnose(items)
        if diagnosis:
            message += f"\n  {'classic mistake: ' if slip else ''}{diagnosis}"
        self.fail(message, slip)

    def fail_wrong_shape(self, student, truth, sizes):
        sizes_text = ", ".join(f"{n} = {v}" for n, v in sizes.items())
        message = (f"{self.head()}\n  its shape is wrong: with {sizes_text} it is "
                   f"{describe_shape(student)}, and {self.task.short} is {describe_shape(truth)}")
        slip = self.match_slip_by_value(student)
        if slip:
            message += f"\n  classic mistake: {slip.mistake}"
        elif is_matrix(student) and is_matrix(truth) and student.shape == truth.T.shape:
            points = self.groups[0][4]
            if all(same(number(a, p), number(b, p)) for p in points
                   for a, b in zip(entries(student), entries(truth.T))):
                message += ("\n  the right numbers, transposed: a gradient has the shape of "
                            "what it is taken with respect to")
        self.fail(message, slip)

    def fail_shape(self, why, sizes):
        sizes_text = ", ".join(f"{n} = {v}" for n, v in sizes.items())
        message = f"{self.head()}\n  its shapes do not fit ({sizes_text}): {why}"
        if "multiply" in why:
            message += ("\n  (products are read from left to right: a ⊙ B C is (a ⊙ B) C; "
                        "parentheses group them otherwise)")
        slip = self.match_slip_after_shape_error()
        if slip:
            message += f"\n  classic mistake: {slip.mistake}"
        self.fail(message, slip)

    def fail(self, message, slip):
        failure = CheckFailed(message, self.task.hint(slip))
        failure.latex = self.understood(latex=True)  # for a typeset display in Jupyter
        raise failure

    # -------------------------------------------------------------- naming the mistake

    def slip_trees(self):
        for slip in self.task.slips:
            yield slip, self.task.parse(slip.answer)

    def match_slip(self, items):
        """The first slip whose values equal the student's at every point of every group."""
        for slip, tree in self.slip_trees():
            if all(self._agrees(tree, [item for item in items if item.group == g],
                                self.groups[g][2], self.groups[g][4], lenient=False)
                   for g in range(len(self.groups))):
                return slip
        return None

    def _agrees(self, tree, items, env, points, lenient):
        for item in items:
            bound = self.task.bind_indices(env, item.assignment)
            try:
                value = evaluate(tree, bound, lenient=lenient)
            except FormulaError:
                return False
            if getattr(value, "shape", ()) != getattr(item.student, "shape", ()):
                return False
            for point in points:
                for s, w in zip(entries(item.student), entries(value)):
                    if not same(number(s, point), number(w, point)):
                        return False
        return True

    def match_slip_by_value(self, student):
        """After a wrong shape: the slip the formula equals in every case of the first sizes."""
        if self.task.indices:
            return None
        first = [(env, points) for sizes, case, env, free, points in self.groups
                 if sizes == self.groups[0][0]]
        return self.only_slip(first, lenient=False)

    def match_slip_after_shape_error(self):
        """A shape error may still be a known slip: compare with broadcasting, or square sizes."""
        model = self.task.model
        if self.task.indices:  # entries are scalars: no broadcasting, no square sizes to try
            return None
        first = [(env, points) for sizes, case, env, free, points in self.groups
                 if sizes == self.groups[0][0]]
        attempts = [(first, True)]
        if model.square:  # strictly at square sizes first: v^T*x is then an inner product
            rng = random.Random(SEED)
            square = []
            for case in model.cases(model.square):
                env, free = model.environment(model.square, case)
                square.append((env, model.points(env, free, 3, rng)))
            attempts = [(square, False)] + attempts + [(square, True)]
        for cases, lenient in attempts:
            slip = self.only_slip(cases, lenient)
            if slip:
                return slip
        return None

    def only_slip(self, cases, lenient):
        """The slip whose values the formula's equal in every (env, points) case, if exactly
        one does and the right answer does not: at square sizes N and K are one number, so
        (P - T)/K cannot be told from (P - T)/N, and a case whose mask is all ones cannot tell
        a missing mask; then no slip is named rather than a wrong one."""
        students = []
        for env, points in cases:
            try:
                students.append(evaluate(self.tree, env, lenient=lenient))
            except FormulaError:
                return None
        matching = []
        for slip, tree in [(None, self.reference)] + list(self.slip_trees()):
            if all(self._agrees(tree, [_Item(0, {}, student, None)], env, points, lenient)
                   for student, (env, points) in zip(students, cases)):
                matching.append(slip)
        return matching[0] if len(matching) == 1 and matching[0] is not None else None

    def ratio(self, items, points):
        """The one number r with yours = r × right at every entry and point, else None."""
        found = None
        for item in items:
            for p in points:
                for s, t in zip(entries(item.student), entries(item.truth)):
                    a, b = number(s, p), number(t, p)
                    if not finite(a) or not finite(b):
                        return None
                    if abs(b) <= TOLERANCE:
                        if abs(a) > TOLERANCE:
                            return None
                        continue
                    if found is None:
                        found = a / b
                    elif not same(a / b, found):
                        return None
        return found

    def diagnose(self, items):
        """Mistakes any task can have: a flipped sign, a transpose, one case of i = j right."""
        first = [item for item in items if item.group == 0]
        points = self.groups[0][4]

        def all_points(relation, subset):
            return all(relation(number(s, p), number(t, p), item)
                       for item in subset for p in points
                       for s, t in zip(entries(item.student), entries(item.truth)))

        if all_points(lambda a, b, _: same(a, -b), first):
            return "the sign is flipped: your formula is exactly minus the right one"
        if all(is_matrix(i.truth) and i.truth.shape[0] == i.truth.shape[1] for i in first):
            if all(same(number(s, p), number(t, p)) for i in first for p in points
                   for s, t in zip(entries(i.student), entries(i.truth.T))):
                return ("transposed: rows and columns are swapped (mixed layouts? the book "
                        "writes Jacobians with rows for outputs, columns for inputs)")
        if len(self.task.indices) == 2:
            i, j = self.task.indices
            diagonal = [it for it in first if it.assignment[i] == it.assignment[j]]
            off = [it for it in first if it.assignment[i] != it.assignment[j]]
            right_on = lambda subset: all_points(lambda a, b, _: same(a, b), subset)
            if right_on(diagonal) and not right_on(off):
                return f"right for {i} = {j}, wrong for {i} ≠ {j}"
            if right_on(off) and not right_on(diagonal):
                return f"right for {i} ≠ {j}, wrong for {i} = {j} (the diagonal)"
        ratios = [self.ratio([i for i in items if i.group == g], self.groups[g][4])
                  for g in range(len(self.groups))]
        if None in ratios:
            return None
        for name in self.groups[0][0]:
            sizes = [sympy.Integer(group[0][name]) for group in self.groups]
            if all(same(r, n) for r, n in zip(ratios, sizes)):
                return f"{name} times too large: a factor 1/{name} is missing"
            if all(same(r * n, 1) for r, n in zip(ratios, sizes)):
                return f"{name} times too small: an extra factor 1/{name}"
        if all(same(r, ratios[0]) for r in ratios) and abs(ratios[0]) > 1e-9:
            return f"off by a constant factor: yours is {_short(ratios[0])} times the right value"
        return None


def _switching(expression):
    """The expressions whose sign change switches a comparison, abs, max/min, sign or step."""
    found = set()
    for piecewise in expression.atoms(sympy.Piecewise):
        for _, condition in piecewise.args:
            for relation in getattr(condition, "atoms", lambda *_: ())(sympy.core.relational
                                                                         .Relational):
                found.add(relation.lhs - relation.rhs)
    for atom in expression.atoms(sympy.Abs, sympy.sign, sympy.Heaviside):
        found.add(atom.args[0])
    for atom in expression.atoms(sympy.Max, sympy.Min):
        arguments = atom.args
        found.update(a - b for k, a in enumerate(arguments) for b in arguments[k + 1:])
    return [f for f in found if f.free_symbols]


def _path(env, domain, symbol, base):
    """How the other entries of a probability vector move when `symbol` does: scaled so that the
    vector still sums to 1 with every entry positive (moving one entry alone would push the
    vector's last entry, 1 minus the others, below 0 past a cut-off such as s_i < 0.9)."""
    if not isinstance(domain, tuple):
        return {}
    matrix = env[domain[1]]
    vectors = [matrix[:, 0]] if matrix.shape[1] == 1 else [matrix[i, :]
                                                           for i in range(matrix.shape[0])]
    vector = next(v for v in vectors if any(e == symbol for e in v))
    scale = (1 - symbol) / (1 - base[symbol])
    return {e: base[e] * scale for e in vector if e.is_Symbol and e != symbol}


def _solve_over_reals(expression, symbol):
    """The real roots by SymPy's solver, or None when it finds no finite set of numbers."""
    try:
        roots = sympy.solveset(expression, symbol, sympy.S.Reals)
    except Exception:  # noqa: BLE001  (a solver that fails locates nothing)
        return None
    if isinstance(roots, sympy.FiniteSet) and all(r.is_number for r in roots):
        return [sympy.N(r, DIGITS) for r in roots]
    return None


def _bounds(domain):
    if domain == "real":
        return None, None
    if domain == "positive":
        return sympy.Integer(0), None
    return sympy.Integer(0), sympy.Integer(1)  # unit, or an entry of a probability vector


def _surely_nonzero(expression):
    """True if SymPy proves a reduced difference is not identically 0: a rational function of
    the free symbols left nonzero after cancellation (1e-128*x), or a sign it knows (an
    exponential, which no point can make 0)."""
    if expression.has(sympy.Piecewise):
        return False
    symbols = expression.free_symbols
    if symbols and expression.is_rational_function(*symbols):
        return sympy.cancel(expression) != 0
    return expression.is_positive is True or expression.is_negative is True


def _brief_expression(expression):
    text = _plain(sympy.N(expression, 6))
    return text if len(text) <= 80 else text[:77] + "..."


def _probes(roots, low=None, high=None):
    """One short decimal inside each interval that the sorted roots cut the domain (low, high)
    into (the outer ones close to the outermost roots), so that every piece is compared once."""
    roots = [sympy.Rational(sympy.nsimplify(r, rational=True)) for r in roots]
    roots = [r for r in roots if (low is None or r > low) and (high is None or r < high)]
    if not roots:
        return []
    width = [max(abs(r), 1) * sympy.Rational(1, 10 ** 4) for r in roots]
    first, last = roots[0] - width[0], roots[-1] + width[-1]
    edges = ([first if low is None else max(first, low)] + roots
             + [last if high is None else min(last, high)])
    return [_shortest_between(a, b) for a, b in zip(edges, edges[1:]) if a < b]


def _shortest_between(a, b):
    """The decimal with the fewest digits strictly between a and b, as an exact rational."""
    a, b = sympy.Rational(sympy.nsimplify(a, rational=True)), sympy.Rational(
        sympy.nsimplify(b, rational=True))
    middle = (a + b) / 2
    for digits in range(0, 40):
        scale = sympy.Integer(10) ** digits
        candidate = sympy.Rational(sympy.floor(middle * scale + sympy.Rational(1, 2)), scale)
        if a < candidate < b:
            return candidate
    return middle


def _is_decimal(value):
    value = sympy.Rational(value)
    q = int(value.q)
    while q % 10 == 0:
        q //= 10
    return q in (1, 2, 5)


def _plain(expression):
    return str(expression).replace("**", "^")


def _seed(text):
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _calls(node, name):
    if node.op == "call" and node.args[0] == name:
        return True
    return any(_calls(child, name) for child in node.args if hasattr(child, "op"))


def _short(value):
    value = sympy.N(value, DIGITS)
    if value.is_real is False:
        return str(sympy.N(value, 6))
    x = float(value)
    return f"{x:.6g}" if x != 0 else "0"


def _format(value, point):
    if not is_matrix(value) and value in point and _is_decimal(point[value]):
        return f"{float(point[value]):.12g}"  # a value probed next to a switch, in full
    if is_matrix(value):
        rows, cols = value.shape
        numbers = [[_short(number(value[i, j], point)) for j in range(cols)] for i in range(rows)]
        if cols == 1:
            return "(" + ", ".join(r[0] for r in numbers) + ")"
        return "[" + "; ".join(", ".join(r) for r in numbers) + "]"
    return _short(number(value, point))


def judge(task, answer):
    """The Verdict for a right answer; CheckFailed, saying what is wrong, for any other."""
    try:
        return Judge(task, answer)()
    except CheckFailed:
        raise
    except Exception as error:  # noqa: BLE001
        # SymPy may fail on odd input (an overflow, a function of a matrix, a MemoryError): say
        # so, with no traceback; no other exception may reach a student for any string
        raise CheckFailed(f"{task.check_name}: could not check your formula "
                          f"({type(error).__name__}: {error})", task.hint()) from None
