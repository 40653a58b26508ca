"""Read a formula typed by a student into a small syntax tree, without ever running it as Python.

The text is cut into tokens by hand: numbers, names, operators, parentheses and commas. Anything
else (quotes, dots outside numbers, brackets, `=`, Python keywords, names that start with an
underscore) is refused with a message that says what it was, before anything is built. The tree
is then turned into SymPy objects by `byhand.derive.evaluate`, which builds every expression
itself: no `eval`, no `sympify`, no `parse_expr` ever sees the text.

Grammar (loosest first):

    comparison := sum [ ('>' | '<' | '>=' | '<=') sum ]
    sum        := product { ('+' | '-') product }
    product    := unary { ('*' | '/' | '@' | '⊙' | '·' | nothing) unary }
    unary      := ('-' | '+') unary | power
    power      := atom { 'ᵀ' } [ ('^' | '**') ('T' | unary) | '²' | '³' ]
    atom       := number | name | name '(' arguments ')' | '(' comparison ')'

`^T` (or `ᵀ`) is a transpose; writing two factors side by side multiplies them. `a · b` of two
vectors of one shape is their inner product (otherwise it is `*`); `×` is `*`.
"""

import keyword
import re
from dataclasses import dataclass

from byhand.failure import CheckFailed

INDEX_FUNCTIONS = ("delta", "KroneckerDelta")
MAX_LENGTH = 400  # characters; the longest reference answer is under 60
# Parentheses, signs, calls and exponents nested deeper than this are refused before the parser
# recurses into them: under Pyodide a few hundred nested levels overflow the JavaScript stack and
# kill the kernel (CPython would only raise RecursionError). The references nest at most 4 deep.
MAX_DEPTH = 40
# exp, cosh, sinh and powers nested deeper than this grow past any number SymPy can evaluate in
# reasonable time (x^x^x^..., exp(exp(exp(exp(x))))): refused. The references nest at most 2.
MAX_GROWTH = 3
GROWTH = ("exp", "cosh", "sinh")
# Functions of functions of ... nested deeper than this are refused too: log(log(log(...)))
# eleven deep kept SymPy busy for minutes. The references nest at most 2 calls.
MAX_CALLS = 4

# Greek letters a student may type instead of spelling them out.
GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "η": "eta",
    "θ": "theta", "λ": "lambda", "μ": "mu", "π": "pi", "σ": "sigma", "τ": "tau", "φ": "phi",
    "Σ": "Sigma", "Δ": "Delta",
}
OPERATORS = ["**", ">=", "<=", "+", "-", "−", "*", "/", "^", "@", "⊙", "·", "×", "ᵀ", "²", "³",
             "(", ")",
             ",", ">", "<", "≥", "≤"]
TYPOGRAPHIC = {"−": "-", "×": "*", "≥": ">=", "≤": "<="}  # as copied from a page
SUPERSCRIPTS = {"²": "2", "³": "3"}  # x² is x^2
NUMBER = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
NAME = re.compile(r"[A-Za-z" + "".join(GREEK) + r"][A-Za-z0-9_" + "".join(GREEK) + r"]*")

# Characters that are refused, and why (the message names the character and its position).
REFUSED = {
    "'": "quotes make a Python string, not a formula (for a derivative such as σ', write out "
         "its formula)",
    '"': "quotes make a Python string, not a formula",
    ".": "a dot outside a number is Python attribute access (like x.T), not math; write x^T "
         "for a transpose",
    "[": "square brackets are not supported; use parentheses ( )",
    "]": "square brackets are not supported; use parentheses ( )",
    "{": "braces are not supported; use parentheses ( )",
    "}": "braces are not supported; use parentheses ( )",
    "=": "'=' makes an equation; give only the right-hand side, the formula itself",
    "_": "names that start with an underscore (like __import__) are Python, not part of a "
         "formula",
    "\\": "backslashes (LaTeX commands) are not read; type plain math such as s_i*(delta_ij - s_j)",
}


def refuse(text, position, why):
    pointer = f"\n    {text}\n    {' ' * position}^" if len(text) <= 100 else ""
    raise CheckFailed(f"could not read your formula: {why} (at character {position + 1}){pointer}")


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", "op", "end"
    text: str
    position: int


def tokenize(text):
    """Cut the text into tokens; refuse any character that cannot be part of a formula."""
    if not isinstance(text, str):
        raise CheckFailed(f"expected the formula as a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise CheckFailed(f"your formula has {len(text)} characters; the limit is {MAX_LENGTH}")
    if not text.strip():
        raise CheckFailed("not answered yet: write your formula in the string, e.g. "
                          '"s_i*(delta_ij - s_j)"')
    tokens, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
            continue
        number = NUMBER.match(text, i)
        if number:
            end = number.end()
            if end < len(text) and text[end] == ".":
                refuse(text, end, "this number is not written the usual way (like 0.5 or 1e-3)")
            tokens.append(Token("number", number.group(), i))
            i = end
            continue
        name = NAME.match(text, i)
        if name:
            word = "".join(GREEK.get(ch, ch) for ch in name.group())
            if "__" in word:
                refuse(text, i, f"'{name.group()}' looks like a Python special name; only the "
                                "task's symbols and functions are read")
            if keyword.iskeyword(word):
                refuse(text, i, f"'{word}' is a Python keyword, not part of a formula "
                                "(Python code is never run here)")
            tokens.append(Token("name", word, i))
            i = name.end()
            continue
        operator = next((op for op in OPERATORS if text.startswith(op, i)), None)
        if operator:
            tokens.append(Token("op", TYPOGRAPHIC.get(operator, operator), i))
            i += len(operator)
            continue
        refuse(text, i, REFUSED.get(c, f"the character {c!r} is not part of a formula here"))
    _check_parentheses(text, tokens)
    tokens.append(Token("end", "", len(text)))
    return tokens


def _check_parentheses(text, tokens):
    open_at = []
    for token in tokens:
        if token.text == "(":
            open_at.append(token.position)
        elif token.text == ")":
            if not open_at:
                refuse(text, token.position, "this ')' has no matching '('")
            open_at.pop()
    if open_at:
        refuse(text, open_at[-1], f"this '(' is never closed ({len(open_at)} missing ')')")


# ---------------------------------------------------------------- the tree

@dataclass(frozen=True)
class Node:
    """One node of the formula: `op` names what it is, `args` its children (or its value)."""
    op: str  # "number", "name", "call", "neg", "+", "-", "*", "/", "@", "⊙", "^", "T", ">"...
    args: tuple
    position: int = 0


class Grammar:
    """What a task lets a formula contain: its symbols, and the functions with their arities."""

    def __init__(self, symbols, functions, bare_functions=(), indices=(), documented=()):
        self.symbols = set(symbols)
        self.documented = list(documented) or sorted(self.symbols)  # listed in messages
        self.functions = dict(functions)  # name -> number of arguments (a tuple of allowed counts)
        self.bare_functions = set(bare_functions)  # function names that may stand alone (sigma)
        self.indices = tuple(indices)  # the free indices of an index-level task, e.g. ("i", "j")


def parse(text, grammar):
    """The syntax tree of `text`, or CheckFailed saying what could not be read."""
    tree = _Parser(text, tokenize(text), grammar).parse()
    _check_growth(text, tree)
    return tree


def _check_growth(text, node, depth=0, calls=0):
    """Refuse towers of powers and exponentials, and deep nests of functions, before anything is
    evaluated."""
    if node.op == "^" or (node.op == "call" and node.args[0] in GROWTH):
        depth += 1
        if depth > MAX_GROWTH:
            refuse(text, node.position, f"powers and exponentials nested more than {MAX_GROWTH} "
                                        "deep grow too fast to be checked")
    if node.op == "call":
        calls += 1
        if calls > MAX_CALLS:
            refuse(text, node.position, f"functions nested more than {MAX_CALLS} deep are not "
                                        "checked here")
    for child in node.args:
        if isinstance(child, Node):
            _check_growth(text, child, depth, calls)


class _Parser:
    STARTS_ATOM = ("number", "name")

    def __init__(self, text, tokens, grammar):
        self.text, self.tokens, self.grammar, self.i = text, tokens, grammar, 0
        self.depth = 0  # how many unary() calls are open: each level of nesting opens one

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, op):
        token = self.take()
        if token.text != op:
            self.fail(token, f"expected '{op}' here")
        return token

    def fail(self, token, why):
        if token.kind == "end":
            refuse(self.text, len(self.text), f"the formula ends too early: {why}")
        refuse(self.text, token.position, f"'{token.text}': {why}")

    def parse(self):
        node = self.comparison()
        token = self.peek()
        if token.kind != "end":
            self.fail(token, "unexpected here" if token.text != "," else
                      "a comma outside a function's parentheses")
        return node

    def comparison(self):
        left = self.sum()
        token = self.peek()
        if token.text in (">", "<", ">=", "<="):
            self.take()
            left = Node(token.text, (left, self.sum()), token.position)
        return left

    def sum(self):
        node = self.product()
        while self.peek().text in ("+", "-"):
            token = self.take()
            node = Node(token.text, (node, self.product()), token.position)
        return node

    def product(self):
        node = self.unary()
        while True:
            token = self.peek()
            if token.text in ("*", "/", "@", "⊙", "·"):
                self.take()
                node = Node(token.text, (node, self.unary()), token.position)
            elif token.kind in self.STARTS_ATOM or token.text == "(":
                node = Node("*", (node, self.unary()), token.position)  # side by side
            else:
                return node

    def unary(self):
        # every nesting (a sign, parentheses, a call's arguments, an exponent) passes through
        # here, so counting the open calls bounds the recursion of the whole parser
        token = self.peek()
        if self.depth >= MAX_DEPTH:
            refuse(self.text, token.position, f"the formula is nested more than {MAX_DEPTH} "
                                              "deep (signs, parentheses, functions, powers)")
        self.depth += 1
        try:
            return self._unary(token)
        finally:
            self.depth -= 1

    def _unary(self, token):
        if token.text in ("-", "+"):
            self.take()
            operand = self.unary()
            return Node("neg", (operand,), token.position) if token.text == "-" else operand
        return self.power()

    def power(self):
        node = self.atom()
        while self.peek().text == "ᵀ":
            node = Node("T", (node,), self.take().position)
        if self.peek().text in SUPERSCRIPTS:
            token = self.take()
            return Node("^", (node, Node("number", (SUPERSCRIPTS[token.text],), token.position)),
                        token.position)
        if self.peek().text in ("^", "**"):
            token = self.take()
            if self.peek().kind == "name" and self.peek().text == "T":
                self.take()
                node = Node("T", (node,), token.position)
                if self.peek().text in ("^", "**"):  # (x^T)^2 written x^T^2
                    token = self.take()
                    node = Node("^", (node, self.unary()), token.position)
                return node
            return Node("^", (node, self.unary()), token.position)
        return node

    def atom(self):
        token = self.take()
        if token.kind == "number":
            return Node("number", (token.text,), token.position)
        if token.text == "(":
            node = self.comparison()
            self.expect(")")
            return node
        if token.kind == "name":
            return self.name(token)
        if token.kind == "end":
            self.fail(token, "a term is missing at the end")
        self.fail(token, "a term is missing before this")

    def name(self, token):
        word, grammar = token.text, self.grammar
        if word in INDEX_FUNCTIONS and grammar.indices and self.peek().text == "(":
            return self.delta(token)
        if word in grammar.functions:
            if self.peek().text == "(":
                self.take()
                args = self.arguments(token)
                counts = grammar.functions[word]
                if len(args) not in counts:
                    wanted = " or ".join(str(c) for c in counts)
                    refuse(self.text, token.position,
                           f"{word}(...) takes {wanted} argument(s), got {len(args)}")
                return Node("call", (word, *args), token.position)
            if word in grammar.bare_functions:
                return Node("name", (word,), token.position)
            refuse(self.text, token.position, f"the function {word} needs its argument in "
                                              f"parentheses: {word}(...)")
        if word in grammar.symbols:
            return Node("name", (word,), token.position)
        refuse(self.text, token.position, unknown_name(word, grammar))

    def delta(self, token):
        """delta(i, j): its two arguments are indices, not formulas."""
        self.take()
        indices = []
        for separator in (",", ")"):
            index = self.take()
            if index.kind != "name" or index.text not in self.grammar.indices:
                self.fail(index, f"the arguments of {token.text}(...) are the indices "
                                 f"{' and '.join(self.grammar.indices)}")
            indices.append(index.text)
            if self.peek().text != separator:
                self.fail(self.peek(), f"{token.text}(...) takes two indices, like delta(i, j)")
            self.take()
        return Node("delta", tuple(indices), token.position)

    def arguments(self, token):
        args = [self.comparison()]
        while self.peek().text == ",":
            self.take()
            args.append(self.comparison())
        self.expect(")")
        return tuple(args)


def unknown_name(word, grammar):
    symbols = ", ".join(grammar.documented)
    base, _, index = word.partition("_")
    entries = sorted(s for s in grammar.symbols if s.startswith(base + "_"))
    if entries and not index:
        return (f"'{word}' is a whole vector, and this task asks for single entries: write "
                f"{' and '.join(entries)}")
    if entries:
        return (f"unknown name '{word}': this task's indices are "
                f"{' and '.join(grammar.indices)} (its symbols: {symbols})")
    return f"unknown name '{word}': this task's symbols are {symbols}"
