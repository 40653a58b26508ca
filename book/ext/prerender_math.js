// Writes the book's TeX as MathML at build time, for book/ext/byhand_math.py, with Temml: a TeX
// to MathML converter that targets MathML Core, the MathML browsers lay out themselves.
//
//   node prerender_math.js TEMML_CJS
//
// Speaks JSON lines. First it writes {"temml": version}. Then, for each line
// {"items": [[tex, display], ...]} it reads (one batch of formulas), it writes
// {"html": [...], "errors": [...]}: each formula's <math> element, and Temml's message where the
// TeX has an error (an unknown macro included), else null.
"use strict";
const path = require("path");
const readline = require("readline");

const [temmlPath] = process.argv.slice(2);
if (!temmlPath) {
  console.error("usage: node prerender_math.js TEMML_CJS");
  process.exit(2);
}

let temml;
try {
  temml = require(path.resolve(temmlPath));
} catch (err) {
  console.error("prerender_math: Temml did not load: " + (err && err.message ? err.message : err));
  process.exit(1);
}

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

// --- TeX's spacing, where browsers lay MathML out otherwise -------------------------------------
// An independent review compared every display formula with MathJax's rendering; these rules
// answer what it found (tests/test_math_prerender.py checks each).

const text = (node) => (node && node.children ? node.children.map(text).join("") : (node && node.text) || "");
const isOperatorName = (node) => node && node.type === "mi" && text(node).length > 1;
const isApply = (node) => node && node.type === "mo" && text(node) === "\u2061";
const CLOSING = new Set([")", "]", "}", "|", "\u2016", "\u27e9", "\u230b", "\u2309"]);
const LARGE = new Set(["\u2211", "\u220f", "\u222b", "\u2210", "\u22c3", "\u22c2"]);
// Children of these elements at these positions are scripts.
const SCRIPTS = { msub: [1], msup: [1], msubsup: [1, 2], munder: [1], mover: [1], munderover: [1, 2] };

function hasTall(node) {
  if (!node || !node.children) return false;
  if (["mfrac", "mtable", "msqrt", "mroot"].includes(node.type)) return true;
  if (["munder", "mover", "munderover"].includes(node.type) && LARGE.has(text(node.children[0]))) return true;
  return node.children.some(hasTall);
}

function texSpacing(node, inScript) {
  if (!node || !node.children) return;
  const kids = node.children;
  if (node.type === "mo" && !("lspace" in node.attributes)) {
    // TeX puts no space around an operator in a sub- or superscript (k=1, m×n), and an
    // ellipsis is an ordinary symbol (1, …, K), not an operator with space on both sides.
    if (inScript || ["\u2026", "\u22ef"].includes(text(node))) {
      node.setAttribute("lspace", "0");
      node.setAttribute("rspace", "0");
    }
  }
  if (node.type === "mtable" && !("displaystyle" in node.attributes)) {
    // The cells of a matrix or of cases are in TeX's text style, even in a display.
    node.setAttribute("displaystyle", "false");
  }
  const first = kids[0], last = kids[kids.length - 1];
  if (node.type === "mrow" && kids.length > 2 && first.type === "mo" && last.type === "mo" &&
      first.attributes.form === "prefix" && last.attributes.form === "postfix" &&
      first.attributes.stretchy === "true" && !kids.slice(1, -1).some(hasTall)) {
    // \left( x_1 \right): nothing tall inside, so the browser's stretched parenthesis (a
    // larger glyph, for the subscript's depth) would stand apart from its content.
    first.setAttribute("stretchy", "false");
    last.setAttribute("stretchy", "false");
  }
  if (node.type === "mo" && "minsize" in node.attributes && !("form" in node.attributes) &&
      !("lspace" in node.attributes)) {
    // \bigl( \bigr): a sized delimiter with no form gets an operator's space on both sides.
    node.setAttribute("lspace", "0");
    node.setAttribute("rspace", "0");
  }
  if (node.type === "mrow" && kids.length === 3 && kids[0].type === "mspace" &&
      kids[1].type === "mo" && kids[2].type === "mspace") {
    // \text{dx} = \text{dout}: Temml spaces the relation itself; its own space would double it.
    kids[1].setAttribute("lspace", "0");
    kids[1].setAttribute("rspace", "0");
  }
  const isRow = !node.type || ["math", "mrow", "mstyle", "mtd", "mpadded"].includes(node.type);
  if (isRow) kids.forEach((kid, i) => {
    // After a relation, a binary operator or an opening, TeX puts no space before a large
    // operator (= ∑, ( ∑): the ∑ keeps only the space the operator before it brings.
    const base = kid.type === "mo" ? kid : SCRIPTS[kid.type] ? kid.children[0] : null;
    const before = kids[i - 1];
    if (base && base.type === "mo" && LARGE.has(text(base)) && !("lspace" in base.attributes) &&
        (i === 0 || (before.type === "mo" && !CLOSING.has(text(before))))) {
      base.setAttribute("lspace", "0");
    }
  });
  for (let i = kids.length - 1; i > 0; i--) {
    // A thin space between a symbol and the operator name after it (t_k log p_k), as TeX
    // puts one between an ordinary atom and an operator; none after an operator or an opening.
    const name = kids[i].type === "mrow" ? kids[i].children[0] : kids[i];
    const applied = kids[i].type === "mrow" ? kids[i].children[1] : kids[i + 1];
    const before = kids[i - 1];
    if (isOperatorName(name) && isApply(applied) &&
        (before.type !== "mo" || CLOSING.has(text(before))) && before.type !== "mspace") {
      const space = new kids[i].constructor("mspace");
      space.setAttribute("width", "0.1667em");
      kids.splice(i, 0, space);
    }
  }
  const scripts = SCRIPTS[node.type] || [];
  kids.forEach((child, i) => texSpacing(child, inScript || scripts.includes(i)));
}

// TeX puts no space before a formula's first atom or after its last: "$x =$ 5" is "x = 5".
function formulaEnds(math) {
  let row = math;
  // (Temml's tree has a document fragment, no element, between <math> and its row.)
  while (row.children && row.children.length === 1 && [undefined, "mrow"].includes(row.children[0].type)) {
    row = row.children[0];
  }
  const kids = row.children || [];
  const first = kids[0], last = kids[kids.length - 1];
  if (first && first.type === "mo" && !("lspace" in first.attributes)) first.setAttribute("lspace", "0");
  if (last && last.type === "mo" && !("rspace" in last.attributes)) last.setAttribute("rspace", "0");
}

function convert(tex, display) {
  try {
    // throwOnError: an error is reported (the build fails under -W), never drawn in red.
    const tree = temml.__renderToMathMLTree(tex, { displayMode: display, throwOnError: true });
    texSpacing(tree, false);
    formulaEnds(tree);
    return [tree.toMarkup(), null];
  } catch (err) {
    // The first line: the lines after it repeat the TeX, underlined.
    const message = String((err && err.message) || err).trim().split("\n")[0];
    return [temml.renderToString("\\text{TeX error}", { displayMode: display }), message];
  }
}

send({ temml: temml.version });
const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  const { items } = JSON.parse(line);
  const html = [];
  const errors = [];
  for (const [tex, display] of items) {
    const [markup, error] = convert(tex, display);
    html.push(markup);
    errors.push(error);
  }
  send({ html: html, errors: errors });
});
