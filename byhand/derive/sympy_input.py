"""Answers given as SymPy objects: printed back to the plain text the parser reads.

A student may build the answer with SymPy (`s_i*(KroneckerDelta(i, j) - s_j)`, or
`W.T*v` with MatrixSymbols). It is printed with a printer that writes transposes as `^T`,
entry-wise products as `⊙` and Kronecker deltas as `delta(i, j)`, then read by the same parser
as a typed answer: a SymPy object gets no more trust than a string.
"""

import sympy
from sympy.printing.str import StrPrinter

from byhand.failure import CheckFailed


class _Printer(StrPrinter):
    def _print_Transpose(self, expr):
        return f"({self._print(expr.arg)})^T"

    def _print_HadamardProduct(self, expr):
        return " ⊙ ".join(f"({self._print(a)})" for a in expr.args)

    def _print_KroneckerDelta(self, expr):
        return "delta({}, {})".format(*(self._print(a) for a in expr.args))

    def _print_MatMul(self, expr):
        return "*".join(f"({self._print(a)})" for a in expr.args)

    def _print_Heaviside(self, expr):
        return f"step({self._print(expr.args[0])})"

    def _print_Identity(self, expr):
        return "I"


def to_text(answer):
    if isinstance(answer, sympy.MatrixBase):
        raise CheckFailed("an explicit SymPy Matrix cannot be checked here: give the formula "
                          "as a string such as \"diag(s) - s*s^T\", or as an expression of "
                          "MatrixSymbols")
    if isinstance(answer, (sympy.Eq, sympy.core.relational.Relational)) and not isinstance(
            answer, (sympy.Gt, sympy.Lt, sympy.Ge, sympy.Le)):
        raise CheckFailed("give only the right-hand side of your equation, the formula itself")
    return _Printer().doprint(answer)
