"""Write a formula back out as it was understood: plain text for messages, LaTeX for display.

Both follow the syntax tree, so the grouping the parser chose is visible: implicit products
appear as explicit ones, `^T` as a transpose, and a `*` read as an entry-wise product as ⊙.
Names go through SymPy's LaTeX printer (s_i → s_{i}, delta_ij → δ_{ij}, sigma → σ).
"""

import re

import sympy

PRECEDENCE = {">": 0, "<": 0, ">=": 0, "<=": 0, "+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "⊙": 2,
              "·": 2,
              "neg": 3, "^": 4, "T": 5}
TEXT_GREEK = {"delta": "δ", "sigma": "σ", "tau": "τ", "alpha": "α", "epsilon": "ε",
              "lambda": "λ", "pi": "π", "Sigma": "Σ"}


def latex_name(name, names=None):
    if names and name in names:
        return names[name]
    if name == "ones":
        return r"\mathbf{1}"
    if name.endswith("bar") and len(name) > 3:
        return r"\bar{" + latex_name(name[:-3]) + "}"
    base, _, index = name.partition("_")
    digits = re.fullmatch(r"([A-Za-z]+?)(\d+)", base)
    if digits and not index:  # W2 -> W_{2}
        base, index = digits.groups()
    if base.startswith("d") and len(base) > 1 and base[1].isupper():  # dA -> dA, upright d
        head = r"\mathrm{d}" + base[1:]
    else:
        head = sympy.latex(sympy.Symbol(base)) if base else ""
    return head + ("_{" + index + "}" if index else "")


def text_name(name):
    base, sep, index = name.partition("_")
    return TEXT_GREEK.get(base, base) + sep + index


def render(node, latex=False, trace=None, names=None):
    """The formula of `node` as text (or LaTeX), parenthesized only where needed."""
    trace = trace or {}

    def go(node, parent=-1, right=False):
        op, args = node.op, node.args
        if op == "number":
            text = args[0]
        elif op == "name":
            text = latex_name(args[0], names) if latex else text_name(args[0])
        elif op == "delta":
            text = (r"\delta_{%s%s}" if latex else "δ_%s%s") % args
        elif op == "call":
            name, *arguments = args
            inner = ", ".join(go(a) for a in arguments)
            if latex and name == "ones":
                text = r"\mathbf{1}_{" + inner + "}"
            elif latex:
                head = {"sigma": r"\sigma", "sigmoid": r"\sigma", "ln": r"\ln",
                        "log": r"\log", "exp": r"\exp", "tanh": r"\tanh",
                        "diag": r"\operatorname{diag}", "ones": r"\mathbf{1}"}.get(
                    name, r"\operatorname{%s}" % name)
                text = head + r"\left(" + inner + r"\right)"
            else:
                text = f"{TEXT_GREEK.get(name, name)}({inner})"
        elif op == "neg":
            text = "-" + go(args[0], PRECEDENCE["neg"])
        elif op == "T":
            base = _brace(go(args[0], PRECEDENCE["T"]), latex)
            text = base + (r"^{\top}" if latex else "ᵀ")
        elif op == "^":
            base = _brace(go(args[0], PRECEDENCE["^"] + 1), latex)  # x^(y^z) groups right
            exponent = go(args[1]) if latex else go(args[1], PRECEDENCE["^"])
            text = base + ("^{" + exponent + "}" if latex else "^" + exponent)
        elif op == "/" and latex:
            text = r"\frac{" + go(args[0]) + "}{" + go(args[1]) + "}"
            return text
        else:
            level = PRECEDENCE[op]
            left = go(args[0], level + _mixed(node, args[0], trace))
            right_side = go(args[1], level, right=True)
            symbol = _binary_symbol(op, trace.get(id(node)), latex)
            text = left + symbol + right_side
        level = PRECEDENCE.get(op, 9)
        if level < parent or (right and level == parent and op in "+-*/@⊙·"):
            text = (r"\left(" + text + r"\right)") if latex else f"({text})"
        return text

    return go(node)


def _brace(base, latex):
    """H^{2} transposed is {H^{2}}^{\\top}: LaTeX refuses a double superscript."""
    return "{" + base + "}" if latex and "^" in base and not base.endswith(r"\right)") else base


def _reading(node, trace):
    if node.op in ("*", "·"):
        return trace.get(id(node), "scalar")
    return {"@": "matmul", "⊙": "hadamard"}.get(node.op)


def _mixed(parent, child, trace):
    """1 if a product inside a product of another kind needs parentheses: (m ⊙ g) xᵀ,
    (s · v) 1."""
    readings = {_reading(parent, trace), _reading(child, trace)}
    if None in readings or len(readings) < 2:
        return 0
    return int(readings == {"matmul", "hadamard"} or "inner" in readings)


def _binary_symbol(op, reading, latex):
    if op == "·" and reading == "inner":
        return r" \cdot " if latex else " · "
    if op in ("*", "·"):
        if reading == "hadamard":
            return r" \odot " if latex else " ⊙ "
        if reading == "matmul":
            return r" \, " if latex else " "
        return r" \cdot " if latex else "·"
    if op == "@":
        return r" \, " if latex else " "
    if op == "⊙":
        return r" \odot " if latex else " ⊙ "
    if op in ("+", "-"):
        return f" {op} "
    if op in (">", "<"):
        return f" {op} "
    if op in (">=", "<="):
        return (r" \geq " if op == ">=" else r" \leq ") if latex else f" {op} "
    return op
