// Readers on phones, with a keyboard or a screen reader: fixes to the pinned theme's behaviour.
// (Loaded on every page; tests/test_site_readers.py checks each of these in Chromium.)
(function () {
  "use strict";

  // 1. The sidebar buttons. pydata-sphinx-theme 0.17 binds its handlers to the first element
  //    with the class `primary-toggle` (and `secondary-toggle`): its own navbar button, which
  //    sphinx-book-theme hides. The visible buttons in the article header get nothing, so on a
  //    phone the table of contents cannot be opened (pydata-sphinx-theme #2451). A click on any
  //    other button of the same class is handed to the first one, whose handlers (the phone
  //    dialog; on wide screens, sphinx-book-theme's collapse) then do their work.
  function forwardToggles(cls) {
    var buttons = document.querySelectorAll("." + cls);
    for (var i = 1; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function (event) {
        event.preventDefault();
        event.stopPropagation();
        buttons[0].click();
      });
      if (!buttons[i].getAttribute("aria-label")) {
        buttons[i].setAttribute("aria-label", buttons[i].getAttribute("title") || cls);
      }
    }
  }

  // 2. Scrollable regions reachable by keyboard. Wide display math, code, outputs and tables
  //    scroll inside their own box; a box that scrolls gets a tab stop so that a keyboard can
  //    scroll it. (The theme's own pass over code and outputs, in the page's `load` event, is
  //    taken out of its script when the book is built: book/ext/byhand_readers.py.)
  var SCROLLERS = [
    "div.math",
    ".cell_output > .output",
    ".byhand-wide-math",
    ".pst-scrollable-table-container",
    "pre",
    ".jp-RenderedHTMLCommon",
    ".jupyter-widgets.widget-hbox",  // e.g. a progress bar's status line, wider than a phone
  ].join(", ");

  function markScrollers() {
    var main = document.getElementById("main-content") || document.body;
    // Inline formulas cannot wrap: one that sticks out of its line (wider than the line, or glued
    // to a word or parenthesis at the line's end) gets a scrolling box of its own.
    main.querySelectorAll("span.math:not(.byhand-wide-math) > math")
      .forEach(function (m) {
        var block = m.parentElement.parentElement;
        while (block && getComputedStyle(block).display.indexOf("inline") === 0) {
          block = block.parentElement;
        }
        if (!block) return;
        var style = getComputedStyle(block);
        var right = block.getBoundingClientRect().right - parseFloat(style.paddingRight) -
          parseFloat(style.borderRightWidth);
        if (m.getBoundingClientRect().right > right + 1) {
          m.parentElement.classList.add("byhand-wide-math");
        }
      });
    main.querySelectorAll(SCROLLERS).forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 ||
        (el.scrollHeight > el.clientHeight + 1 && /auto|scroll/.test(getComputedStyle(el).overflowY));
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.dataset.byhandScroll = "";
      } else if (!scrolls && el.dataset.byhandScroll !== undefined) {
        el.removeAttribute("tabindex");
        delete el.dataset.byhandScroll;
      }
    });
  }

  // 3. Names that match what is shown, and names for the sliders.
  function fixNames() {
    // The search field's visible text ("Search Ctrl+K") names it; its aria-label "Search" would
    // not contain that text (label-content-name-mismatch).
    document.querySelectorAll(".search-button-field[aria-label]").forEach(function (b) {
      b.removeAttribute("aria-label");
    });
    // sphinx-togglebutton labels its buttons "Toggle hidden content" whatever they show.
    document.querySelectorAll("button.toggle-button[aria-label='Toggle hidden content']").forEach(
      function (b) {
        if (b.textContent.trim()) b.removeAttribute("aria-label");
      }
    );
    // ipywidgets sliders: the handle (role=slider) is named by the widget's description label.
    document.querySelectorAll(".widget-slider").forEach(function (w, i) {
      var label = w.querySelector(".widget-label");
      var handle = w.querySelector("[role='slider']");
      if (!label || !handle || handle.hasAttribute("aria-labelledby")) return;
      if (!label.id) label.id = "byhand-slider-label-" + i;
      handle.setAttribute("aria-labelledby", label.id);
    });
  }

  // 4. Search results: Sphinx makes each result's snippet from the page's source text, where
  //    formulas are TeX, so snippets read "\\(\\log\\sum_i ...\\)".
  //    Formulas in snippets are shown as plain text instead: delimiters and braces dropped,
  //    commands by their names or symbols.
  var SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", eta: "η",
    theta: "θ", lambda: "λ", mu: "μ", pi: "π", rho: "ρ", sigma: "σ", tau: "τ", phi: "φ",
    psi: "ψ", omega: "ω", Delta: "Δ", Sigma: "Σ", sum: "Σ", prod: "Π", partial: "∂",
    nabla: "∇", infty: "∞", cdot: "·", times: "×", top: "ᵀ", to: "→", mapsto: "↦", le: "≤",
    leq: "≤", ge: "≥", geq: "≥", ne: "≠", neq: "≠", approx: "≈", in: "∈", odot: "⊙",
    ldots: "…", cdots: "⋯", quad: " ", qquad: " ",
  };
  function texToText(tex) {
    return tex
      .replace(/\\frac\{([^{}]*)\}\{([^{}]*)\}/g, "($1)/($2)")
      .replace(/\\(?:left|right|big|Big|bigg|Bigg|displaystyle|mathrm|mathbf|mathbb|mathcal|operatorname|text|boldsymbol)\b/g, "")
      .replace(/\\([A-Za-z]+)/g, function (m, name) {
        return " " + (SYMBOLS.hasOwnProperty(name) ? SYMBOLS[name] : name) + " ";
      })
      .replace(/\\[,;:! ]/g, " ")
      .replace(/[{}]/g, "")
      .replace(/\s+/g, " ")
      .replace(/ ([_^)]|ᵀ)/g, "$1")
      .trim();
  }
  function plainMath(text) {
    return text
      .replace(/\\\(([\s\S]*?)\\\)/g, function (m, tex) { return texToText(tex); })
      .replace(/\\\[([\s\S]*?)\\\]/g, function (m, tex) { return texToText(tex); })
      .replace(/\$\$([\s\S]*?)\$\$/g, function (m, tex) { return texToText(tex); });
  }
  function cleanSearchSnippets() {
    // searchtools.js declares `const Search` at the top level: a global binding, not on window.
    var search = typeof Search !== "undefined" ? Search : window.Search; // eslint-disable-line no-undef
    if (!search || typeof search.htmlToText !== "function" || search.byhandPlainMath) return;
    var original = search.htmlToText;
    search.htmlToText = function (html, anchor) {
      return plainMath(original.call(this, html, anchor));
    };
    search.byhandPlainMath = true;
  }
  window.byhandPlainMath = plainMath; // for the tests

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  var updates = 0;
  function update() {
    markScrollers();
    fixNames();
    // how many times this ran: the browser tests wait for a run after the page has settled
    document.documentElement.dataset.byhandReaders = String(++updates);
  }
  window.byhandReaders = { update: update };

  function start() {
    forwardToggles("primary-toggle");
    forwardToggles("secondary-toggle");
    cleanSearchSnippets();
    // The first run waits for the page's load (below): it measures every box that might scroll,
    // which lays out the whole page, and the page is read before that is needed.
    var later = debounce(update, 150);
    window.addEventListener("resize", later);
    window.addEventListener("load", later);
    window.addEventListener("load", cleanSearchSnippets);
    // Widgets render after the page has loaded; formulas take their width once the math fonts
    // have loaded.
    var main = document.getElementById("main-content");
    if (main) new MutationObserver(later).observe(main, { childList: true, subtree: true });
    if (document.fonts && document.fonts.ready) document.fonts.ready.then(later);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  if (document.readyState === "complete") update();
})();
