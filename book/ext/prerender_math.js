// Typesets the book's TeX at build time, for book/ext/byhand_math.py, with the same MathJax 3
// the site serves (MathJax's own Node entry point, node-main.js, and its lite DOM: no browser).
//
//   node prerender_math.js MATHJAX_ES5_DIR FONT_URL
//
// Speaks JSON lines. First it writes {"css": ...}: the CHTML style sheet for every glyph of the
// TeX fonts (adaptiveCSS off: one file serves every page, whichever formulas it has), with
// FONT_URL where the fonts are. Then, for each line {"items": [[tex, display], ...]} it reads
// (one page's formulas), it writes {"html": [...], "errors": [...]}: each formula's CHTML, which
// carries its MathML for screen readers (a11y/assistive-mml), and MathJax's message where the
// TeX has an error, else null.
"use strict";
const path = require("path");
const readline = require("readline");

const [mathjaxDir, fontURL] = process.argv.slice(2);
if (!mathjaxDir || !fontURL) {
  console.error("usage: node prerender_math.js MATHJAX_ES5_DIR FONT_URL");
  process.exit(2);
}

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

require(path.resolve(mathjaxDir, "node-main.js"))
  .init({
    loader: {
      load: ["input/tex", "output/chtml", "adaptors/liteDOM", "a11y/assistive-mml"],
      versionWarnings: false,
    },
    // MathJax's TeX defaults (the book numbers its equations itself), less noundefined: an
    // unknown macro is then an error the build reports, not red text on the page.
    tex: { packages: { "[-]": ["noundefined"] } },
    chtml: { fontURL: fontURL, adaptiveCSS: false },
    startup: { typeset: false },
  })
  .then((MathJax) => {
    const adaptor = MathJax.startup.adaptor;
    send({ css: adaptor.textContent(MathJax.chtmlStylesheet()) });
    const lines = readline.createInterface({ input: process.stdin, terminal: false });
    lines.on("line", (line) => {
      const { items } = JSON.parse(line);
      const html = [];
      const errors = [];
      for (const [tex, display] of items) {
        const node = MathJax.tex2chtml(tex, { display: display });
        const error = adaptor.tags(node, "mjx-merror")[0];
        errors.push(error ? adaptor.getAttribute(error, "data-mjx-error") || adaptor.textContent(error) : null);
        html.push(adaptor.outerHTML(node));
      }
      send({ html: html, errors: errors });
    });
  })
  .catch((err) => {
    console.error("prerender_math: MathJax did not start: " + (err && err.message ? err.message : err));
    process.exit(1);
  });
