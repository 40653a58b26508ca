import pytest
import sympy as sp

from byhand.verify import IdentityError, verify, verify_identity


def test_a_true_identity_is_verified_and_typeset():
    x = sp.symbols("x", real=True)
    verified = verify_identity(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1, "Pythagoras")
    latex = verified._repr_latex_()
    assert r"\checkmark" in latex and "Pythagoras" in latex and r"\sin" in latex
    assert repr(verified).startswith("verified Pythagoras:")


def test_a_false_identity_raises_with_the_difference():
    x = sp.symbols("x", real=True)
    with pytest.raises(IdentityError, match=r"simplify\(lhs - rhs\) = -2\*x"):
        verify_identity(sp.diff(x**2, x) - 4 * x, 0 * x + (-2 * x) + 2 * x)


def test_log_sum_exp_shift_identity():
    a = sp.symbols("a", real=True)
    xs = sp.symbols("x1:4", real=True)
    lhs = sp.log(sum(sp.exp(x) for x in xs))
    rhs = a + sp.log(sum(sp.exp(x - a) for x in xs))
    verify_identity(lhs, rhs, "log-sum-exp shift")
    with pytest.raises(IdentityError):  # forgetting to add the shift back
        verify_identity(lhs, sp.log(sum(sp.exp(x - a) for x in xs)))


def test_matrices_are_compared_entry_by_entry():
    a, b = sp.symbols("a b")
    m = sp.Matrix([[a, b], [b, a]])
    verify_identity(m * m, sp.Matrix([[a**2 + b**2, 2 * a * b], [2 * a * b, a**2 + b**2]]))
    with pytest.raises(IdentityError, match="differ"):
        verify_identity(m * m, sp.Matrix([[a**2 - b**2, 2 * a * b], [2 * a * b, a**2 + b**2]]))
    with pytest.raises(IdentityError, match="shapes"):
        verify_identity(m, sp.Matrix([a, b]))


def test_verify_displays_the_identity(capsys):
    x = sp.symbols("x")
    verify((x + 1) ** 2, x**2 + 2 * x + 1, "square")
    assert "verified square:" in capsys.readouterr().out
    with pytest.raises(IdentityError):
        verify((x + 1) ** 2, x**2 + 1)


def test_labels_with_tex_special_characters_are_escaped():
    latex = verify_identity(sp.Integer(1), 1, "d_out & x_1")._repr_latex_()
    assert r"\text{d}\_\text{out }\&\text{ x}\_\text{1:}" in latex


def test_a_caret_in_a_label_is_not_left_in_text_mode():
    # LaTeX's text mode has no ^ (the book's Temml rejects it): the label shows U+02C6 instead.
    latex = verify_identity(sp.Integer(1), 1, "tanh' = 1 - tanh^2")._repr_latex_()
    label = latex.split(r"\quad")[0]
    assert "^" not in label and "tanh\u02c62" in label


def test_a_long_identity_is_printed_folded_to_the_code_column():
    x = sp.symbols("x1:9")
    total = sum(sp.exp(v) for v in x)
    shown = repr(verify_identity(sp.exp(x[0]) / total, sp.exp(x[0]) / total, "a long one"))
    assert all(len(line) <= 88 for line in shown.splitlines()), shown
    assert len(shown.splitlines()) >= 2 and shown.startswith("verified a long one: exp(x1)/(")
