"""What a derivation task is: what to derive, in which symbols, the answer, and the known slips."""

import re
from dataclasses import dataclass, field

import sympy

from .evaluate import CONSTANTS, FUNCTIONS
from .parse import Grammar, parse

CHAPTER_LABELS = {1: "ch-jacobians", 2: "ch-logsumexp", 3: "ch-softmax", 4: "ch-log-softmax",
                  5: "ch-cross-entropy", 6: "ch-linear", 7: "ch-activations", 8: "ch-residual",
                  9: "ch-graphs", 10: "ch-mnist"}


@dataclass
class Slip:
    """A classic mistake: a wrong answer, what went wrong, and where the book explains it."""
    answer: str
    mistake: str
    section: str = None  # "3.4 'The Jacobian, entry by entry'"; default: the task's
    chapter: int = None  # default: the task's


@dataclass
class Task:
    name: str  # the check is byhand.check.derive_<name>
    chapter: int
    section: str  # where the derivation is, e.g. "3.4 'The Jacobian, entry by entry'"
    asks: str  # what to derive, plain text: "∂s_i/∂x_j, entry (i, j) of the softmax Jacobian"
    asks_latex: str  # the same, LaTeX: r"\frac{\partial s_i}{\partial x_j}"
    symbols: dict  # name -> what it stands for (these and the size names may appear)
    model: object  # byhand.derive.models.Model
    reference: str
    also_right: list  # other correct forms (at least two)
    slips: list  # Slip, in the order they are tried
    indices: tuple = ()  # ("i", "j") for an index-level task
    index_size: str = None  # the size the indices run over
    families: tuple = ()  # vector names whose entries s_i, s_j may appear
    bare_functions: tuple = ()  # function names that may stand alone (sigma for sigma(x))
    latex_names: dict = field(default_factory=dict)
    example: str = None  # the form to show in the statement; default: none

    @property
    def check_name(self):
        return "derive_" + self.name

    @property
    def quantity_latex(self):
        """The quantity alone, without its conditions: what "= <formula>" may follow."""
        return re.split(r",\\ |\\ \\text\{", self.asks_latex)[0]

    @property
    def short(self):
        """What is asked, without its conditions: "db = ∂E/∂b" from "db = ∂E/∂b for A = ..."."""
        return self.asks.split(" for ")[0].split(", ")[0]

    @property
    def label(self):
        return CHAPTER_LABELS[self.chapter]

    def hint(self, slip=None):
        chapter = (slip and slip.chapter) or self.chapter
        section = (slip and slip.section) or (self.section if chapter == self.chapter else None)
        where = f", section {section}" if section else ""
        return f"reread chapter {chapter}{where} ({CHAPTER_LABELS[chapter]})."

    @property
    def grammar(self):
        if not hasattr(self, "_grammar"):
            names = set(self.symbols) | set(self.model.sizes[0])
            if self.indices:
                names |= {f"{f}_{i}" for f in self.families for i in self.indices}
                names |= {"delta_" + a + b for a in self.indices for b in self.indices}
            names |= set(CONSTANTS)  # e and pi, unless the task binds the name itself
            self._grammar = Grammar(names, FUNCTIONS, self.bare_functions, self.indices,
                                    documented=list(self.symbols))
        return self._grammar

    def parse(self, text):
        return parse(text, self.grammar)

    def index_assignments(self, sizes):
        """Concrete values of the indices: every (i, j) pair, so i = j and i != j both occur."""
        if not self.indices:
            return [{}]
        n = sizes[self.index_size]
        if len(self.indices) == 1:
            return [{self.indices[0]: i} for i in range(n)]
        return [{self.indices[0]: i, self.indices[1]: j} for i in range(n) for j in range(n)]

    def bind_indices(self, env, assignment):
        if not assignment:
            return env
        env = dict(env)
        env.update(assignment)
        for family in self.families:
            for letter, position in assignment.items():
                env[f"{family}_{letter}"] = env[family][position]
        for a in assignment:
            for b in assignment:
                env["delta_" + a + b] = sympy.Integer(int(assignment[a] == assignment[b]))
        return env

    def statement(self):
        """The task as Markdown with LaTeX, for an exercise notebook."""
        symbols = "; ".join(f"`{name}`: {what}" for name, what in self.symbols.items())
        lines = [f"**Derive** ${self.asks_latex}$ ({self.asks}).", "",
                 f"Symbols you may use — {symbols}."]
        sizes = [name for name in self.model.sizes[0] if name not in self.symbols]
        if sizes:
            n = sizes[0]
            lines.append(("The sizes " if len(sizes) > 1 else "The size ")
                         + ", ".join(f"`{name}`" for name in sizes)
                         + f" may appear too (as in `1/{n}` or `ones({n})`).")
        if len(self.indices) == 2:
            i, j = self.indices
            lines.append(f"Write the Kronecker delta as `delta_{i}{j}` or `delta({i}, {j})`.")
        if ">" in self.reference or any(v.domain == "signed" for v in self.model.variables):
            lines.append("A 0/1 mask is a comparison in parentheses, such as `(x > 0)`, or "
                         "`step(x)`.")
        lines += ["", f"Check it with `check.{self.check_name}(answer)`. Write `answer` as "
                      "a string of plain math: `*` or a space for products, `^` or `**` for "
                      "powers, `^T` for a transpose, functions such as `exp`, `log`, `diag(v)`, "
                      "`ones(N)`, `sum(M, 0)`, Greek letters spelled out (`sigma`, `delta`); "
                      "or give a SymPy expression."]
        if any(v.shape for v in self.model.variables) and not self.indices:
            lines += ["", "With vectors and matrices, `A*B` is the matrix product when the "
                          "inner sizes fit and entry by entry when the shapes are equal (`m*g` "
                          "for two columns; `⊙` or `hadamard(a, b)` says so explicitly). An "
                          "inner product is `a^T*b`, `dot(a, b)` or `a·b`; an outer one "
                          "`a*b^T` or `outer(a, b)`."]
        return "\n".join(lines)
