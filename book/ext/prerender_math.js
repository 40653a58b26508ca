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

function convert(tex, display) {
  try {
    // throwOnError: an error is reported (the build fails under -W), never drawn in red.
    return [temml.renderToString(tex, { displayMode: display, throwOnError: true }), null];
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
