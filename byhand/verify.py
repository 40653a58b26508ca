"""Assert a symbolic identity with SymPy and show it.

    verify(lhs, rhs, label)   display "label: lhs = rhs ✓" in a notebook, raise if they differ

A derivation in the book is followed by a `verify` cell: if the claimed result is wrong, the
notebook (and so the book's build and CI) fails at that cell.
"""

import sympy

from byhand.failure import folded


class IdentityError(AssertionError):
    """SymPy could not show that the two sides are equal."""


def _difference(lhs, rhs, simplify):
    lhs, rhs = sympy.sympify(lhs), sympy.sympify(rhs)
    if isinstance(lhs, sympy.MatrixBase) or isinstance(rhs, sympy.MatrixBase):
        lhs, rhs = sympy.Matrix(lhs), sympy.Matrix(rhs)
        if lhs.shape != rhs.shape:
            raise IdentityError(f"the sides have different shapes: {lhs.shape} and {rhs.shape}")
        return (lhs - rhs).applyfunc(simplify)
    return simplify(lhs - rhs)


def _is_zero(difference):
    if isinstance(difference, sympy.MatrixBase):
        return all(entry == 0 for entry in difference)
    return difference == 0


class Verified:
    """A checked identity; shows as typeset math in Jupyter and in the book."""

    def __init__(self, lhs, rhs, label):
        self.lhs, self.rhs, self.label = lhs, rhs, label

    def _repr_latex_(self):
        # MathJax shows \_ literally inside \text{}: close the text, write the math-mode \_.
        # A caret is no character of LaTeX's text mode (Temml, which writes the book's MathML,
        # rejects it; MathJax let it through): U+02C6, the modifier letter that looks like one.
        text = "".join("}\\" + c + "\\text{" if c in "_#%&$" else c for c in self.label or "")
        text = text.replace("^", "\u02c6")
        label = rf"\text{{{text}:}}\quad " if self.label else ""
        return rf"$\displaystyle {label}{sympy.latex(self.lhs)} = {sympy.latex(self.rhs)}\quad\checkmark$"

    def __repr__(self):
        label = f"{self.label}: " if self.label else ""
        return folded(f"verified {label}{sympy.sstr(self.lhs)} == {sympy.sstr(self.rhs)}")


def verify_identity(lhs, rhs, label=None, simplify=sympy.simplify):
    """Return a Verified if simplify(lhs − rhs) is zero (entry-wise for matrices); else raise."""
    difference = _difference(lhs, rhs, simplify)
    if not _is_zero(difference):
        name = f"{label}: " if label else ""
        raise IdentityError(
            f"{name}the two sides differ; simplify(lhs - rhs) = {sympy.sstr(difference)}\n"
            f"  lhs = {sympy.sstr(lhs)}\n  rhs = {sympy.sstr(rhs)}"
        )
    return Verified(lhs, rhs, label)


def verify(lhs, rhs, label=None, simplify=sympy.simplify):
    """Assert lhs == rhs symbolically and display the identity (printed outside IPython)."""
    from IPython.display import display

    display(verify_identity(lhs, rhs, label, simplify))
