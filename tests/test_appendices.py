"""The appendices: every seed mistake has an entry in the catalogue, every entry demonstrates,
the rules card covers byhand.nn, cross-references point at labels that exist, and the
bibliography parses."""

import inspect
import json
import re
from pathlib import Path

import pytest

import byhand.engine
import byhand.nn

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "appendices"
SEEDS = ROOT.parent / "shared" / "seeds"

# Every mistake found in the source notes: (file, line, entry label in appendices/mistakes).
SEED_MISTAKES = [
    ("000", 35, "mis-shift-log-c"),            # log C for an arbitrary (maybe negative) C
    ("000", 55, "mis-linear-bias-shape"),      # dE/db of shape [1, H] for b of shape [H]
    ("000", 64, "mis-linear-dx-indices"),      # dX summed over the batch index, j left free
    ("000", 66, "mis-linear-index-ranges"),    # output index summed up to D
    ("000", 73, "mis-linear-dout-transpose"),  # d_out as the transpose of dE/dA
    ("000", 83, "mis-linear-index-ranges"),    # the same range slip for dX
    ("000", 95, "mis-linear-dout-transpose"),  # repeated
    ("000", 111, "mis-relu-kink"),             # ReLU'(0) = 1 stated as a derivative
    ("000", 127, "mis-ce-sign"),               # cross-entropy without its minus sign
    ("000", 138, "mis-ce-sign"),               # the same in code form
    ("000", 166, "mis-ce-targets-sum"),        # sum_k y_ik replaced by 1 silently
    ("000", 174, "mis-ce-sign"),               # gradient y - p
    ("001", 13, "mis-quotient-rule-v"),        # quotient rule with v for u
    ("001", 17, "mis-notation"),               # approximately-equal for an exact step
    ("001", 25, "mis-softmax-vjp-sigma-jj"),   # sigma_j sigma_j for sigma_i sigma_j
    ("001", 25, "mis-vjp-rows-columns"),       # row i of J used instead of column i
    ("001", 42, "mis-tanh-denominator"),       # v for v' in tanh's quotient rule
    ("001", 48, "mis-zero-init"),              # "zero init: nothing is updated"
    ("001", 84, "mis-logsm-offdiag"),          # a term that vanishes for k != i kept
    ("001", 86, "mis-logsm-offdiag"),          # wrong prefactor e^{x_k}/e^{x_i}
    ("001", 100, "mis-logsm-vjp-dropped"),     # sum over j != i: -sigma_i v_i dropped
    ("001", 106, "mis-scalar-grad-shape"),     # Jacobian of a scalar loss as N x N
    ("002", 9, "mis-layer-indexing"),          # layer index ranges that do not chain
    ("002", 13, "mis-ce-of-logits"),           # output = logits fed to -ln
    ("002", 20, "mis-index-ranges"),           # labels 0..N for N classes
    ("002", 42, "mis-notation"),               # theta for theta_t in the update
    ("002", 131, "mis-sigmoid-exp-sign"),      # e^z for e^-z in sigma'
    ("002", 133, "mis-sigmoid-exp-sign"),      # 1 - e^z/(1+e^-z) = sigma
    ("002", 137, "mis-sigmoid-dropped-factor"),  # sigma' = 1 - sigma
    ("002", 153, "mis-softmax-offdiag-square"),  # e^{x_l} e^{x_l} for e^{x_i} e^{x_l}
    ("002", 169, "mis-softmax-matrix-plus-vector"),  # quotient of matrices, M + v
    ("002", 177, "mis-jacobian-as-sum"),       # D_p CE written as a sum
    ("002", 202, "mis-linear-weight-shape"),   # w in R^n for an m x n matrix
    ("002", 214, "mis-notation"),              # f_1 and f_i mixed in one row
    ("002", 218, "mis-notation"),              # a block too many in the last row
    ("002", 235, "mis-notation"),              # w^3 beside u^2, u^1
    ("002", 243, "mis-reuse-wrong-product"),   # chain continued past D_w; w^2 for w^1
    ("002", 265, "mis-lse-shift-choice"),      # max, min or mean "makes no difference"
    ("002", 283, "mis-lse-log-argument"),      # argument of log >= 0 "avoids" -inf
    ("003", 45, "mis-ce-grad-wrt-p-vs-x"),     # grad wrt p labelled grad wrt x
    ("003", 53, "mis-index-ranges"),           # x_0 .. x_K for a K-vector
    ("003", 71, "mis-vjp-rows-columns"),       # J times the gradient, not J^T
    ("003", 79, "mis-unfused-chain"),          # p - t "only" in fused library code
    ("003", 87, "mis-res-identity-plus-vector"),  # + I_n added to a vector
    ("003", 105, "mis-res-block-jacobian"),    # dy/dx of the block = I
    ("003", 113, "mis-relu-identity"),         # ReLU Jacobian treated as identity
    ("003", 130, "mis-matmul-jacobian-transpose"),  # Jacobian of Hx "is H^T"
    ("003", 140, "mis-res-identity-plus-vector"),  # repeated
    ("003", 155, "mis-weight-grad-input-jacobian"),  # dH via dx2/dx
    ("003", 161, "mis-res-bias-update"),       # bias update written into H
    ("004", 67, "mis-ce-log-base"),            # base-10 log values
    ("004", 72, "mis-ce-log-base"),            # repeated
    ("004", 85, "mis-log-of-underflow"),       # "log space means no underflow"
    ("004", 138, "mis-notation"),              # a sum set equal to R
    ("004", 291, "mis-quotient-rule-sign"),    # quotient rule with +
    ("004", 297, "mis-exp-derivative-e0"),     # d e^{l_j}/d l_j written e^0
    ("004", 365, "mis-index-clash"),           # bound index reused as free index
]


def notebook_cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


@pytest.fixture(scope="module")
def mistakes():
    return notebook_cells(APP / "mistakes.ipynb")


def entries(cells):
    """label -> the cells from its heading to the next entry or section."""
    found, current = {}, None
    for cell in cells:
        text = source(cell)
        m = re.match(r"\((mis-[a-z0-9-]+)\)=", text)
        if m:
            current = found.setdefault(m.group(1), [])
        elif cell["cell_type"] == "markdown" and re.match(r"\(?#|##", text.lstrip()):
            current = None
        if current is not None:
            current.append(cell)
    return found


def test_first_cell_is_the_label_and_title(mistakes):
    assert source(mistakes[0]).startswith("(app-mistakes)=\n# A. Classic mistakes")


@pytest.mark.parametrize("seed, line, label", SEED_MISTAKES)
def test_every_seed_mistake_has_an_entry(mistakes, seed, line, label):
    assert label in entries(mistakes), f"no entry ({label})= for seed {seed}, line {line}"
    files = sorted(SEEDS.glob(f"{seed}_*.txt")) if SEEDS.is_dir() else []
    if files:  # the notes live beside the repository, not in it
        assert line <= len(files[0].read_text().splitlines())
        assert f"file {seed}" in source(entries(mistakes)[label][0])


def test_each_entry_is_wrong_demonstrated_then_right_checked(mistakes):
    found = entries(mistakes)
    assert len(found) >= 45
    for label, cells in found.items():
        texts = [source(c) for c in cells]
        assert "**Wrong.**" in texts[0], label
        right = next(i for i, t in enumerate(texts) if t.startswith("**Right.**"))
        demo = "\n".join(texts[1:right])
        assert "shown_wrong(" in demo or "assert" in demo, f"{label}: nothing demonstrates"
        assert re.search(r"\{(ref|doc|prf:ref)\}", texts[right]), f"{label}: no link"
        check = "\n".join(texts[right + 1:])
        assert re.search(r"assert|gradcheck|verify", check), f"{label}: right not checked"


def test_demonstration_helper_fails_when_the_wrong_version_passes(mistakes):
    namespace = {}
    exec(source(mistakes[1]), namespace)  # the imports and helpers cell
    shown_wrong = namespace["shown_wrong"]
    with shown_wrong(ValueError):
        raise ValueError("caught")
    with pytest.raises(AssertionError, match="no longer demonstrates"):
        with shown_wrong(ValueError):
            pass


def test_rules_card_mentions_every_public_function():
    text = (APP / "rules.md").read_text()
    names = [n for n, obj in vars(byhand.nn).items()
             if callable(obj) and not n.startswith("_") and not inspect.ismodule(obj)]
    names += byhand.engine.__all__
    assert len(names) >= 20
    missing = [n for n in names if f"`{n}`" not in text]
    assert not missing, f"the rules card does not mention {missing}"


def all_labels():
    labels = set()
    for path in list(ROOT.glob("chapters/*.ipynb")) + list(APP.glob("*.ipynb")):
        text = "\n".join(source(c) for c in notebook_cells(path))
        labels |= set(re.findall(r"^\(([\w-]+)\)=", text, re.M))
        labels |= set(re.findall(r"^:label: ([\w-]+)", text, re.M))
    for path in APP.glob("*.md"):
        labels |= set(re.findall(r"^\(([\w-]+)\)=", path.read_text(), re.M))
    return labels


def appendix_texts():
    for path in APP.glob("*.md"):
        yield path, path.read_text()
    for path in APP.glob("*.ipynb"):
        yield path, "\n".join(source(c) for c in notebook_cells(path))


def test_every_cross_reference_resolves():
    labels = all_labels()
    for path, text in appendix_texts():
        for target in re.findall(r"\{(?:ref|prf:ref)\}`([^`]+)`", text):
            target = re.sub(r"^.*<(.+)>$", r"\1", target)
            assert target in labels, f"{path.name}: unknown label {target}"
        for target in re.findall(r"\{doc\}`([^`]+)`", text):
            target = re.sub(r"^.*<(.+)>$", r"\1", target)
            assert list((path.parent / target).parent.glob(Path(target).name + ".*")), target


def bibliography():
    import pybtex.database

    return pybtex.database.parse_file(str(ROOT / "references.bib"), bib_format="bibtex")


def test_bibliography_parses_and_has_mnist():
    bib = bibliography()
    mnist = bib.entries["lecun1998mnist"]
    authors = [str(p) for p in mnist.persons["author"]]
    assert authors == ["LeCun, Yann", "Cortes, Corinna", "Burges, Christopher J. C."]
    assert "MNIST" in mnist.fields["title"]
    assert bib.entries["lecun1998gradient"].fields["pages"] == "2278--2324"


def test_every_citation_has_an_entry():
    keys = set(bibliography().entries)
    cited = set()
    for path, text in appendix_texts():
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", text):
            cited |= {k.strip() for k in group.split(",")}
    assert cited <= keys, f"unknown keys: {cited - keys}"
    assert cited == keys, f"never cited in the appendices: {keys - cited}"
