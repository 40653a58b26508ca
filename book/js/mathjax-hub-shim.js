// Widget labels with TeX in them ("scale \(s\)"), typeset from the page itself.
//
// The ipywidgets HTML manager (html-manager 1.0.x) typesets a label through the MathJax 2 API,
// `MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])`, whenever `window.MathJax` exists. The
// book's formulas are typeset when the book is built (book/ext/byhand_math.py), the labels' ones
// included: the page carries them, as MathJax's HTML keyed by their TeX, in
// <script id="byhand-widget-math">. This stand-in for MathJax 2's `Hub` puts that HTML in place of
// each `\(...\)` of the element's text; the page loads no MathJax. TeX the table does not have
// stays as it is (tests/test_site.py fails on it).
(function () {
  "use strict";
  var INLINE = /\\\((.+?)\\\)/g;
  var table = null;

  function formulas() {
    if (table === null) {
      var data = document.getElementById("byhand-widget-math");
      if (!data) return {};
      table = JSON.parse(data.textContent);
    }
    return table;
  }

  function typesetText(node, known) {
    var text = node.nodeValue;
    var parts = document.createDocumentFragment();
    var last = 0;
    var found = false;
    text.replace(INLINE, function (all, tex, at) {
      if (!Object.prototype.hasOwnProperty.call(known, tex)) return all;
      found = true;
      parts.appendChild(document.createTextNode(text.slice(last, at)));
      var math = document.createElement("span");
      math.className = "math notranslate nohighlight";
      math.innerHTML = known[tex];
      parts.appendChild(math);
      last = at + all.length;
      return all;
    });
    if (!found) return;
    parts.appendChild(document.createTextNode(text.slice(last)));
    node.parentNode.replaceChild(parts, node);
  }

  function typeset(element) {
    if (!element) return;
    if (document.readyState === "loading") {
      // The table sits at the end of the page.
      document.addEventListener("DOMContentLoaded", function () { typeset(element); });
      return;
    }
    var known = formulas();
    var walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    var texts = [];
    while (walker.nextNode()) {
      if (walker.currentNode.nodeValue.indexOf("\\(") >= 0) texts.push(walker.currentNode);
    }
    texts.forEach(function (node) { typesetText(node, known); });
  }

  window.MathJax = {
    Hub: {
      Queue: function () {
        for (var i = 0; i < arguments.length; i++) {
          var job = arguments[i];
          if (Array.isArray(job) && job[0] === "Typeset") typeset(job[2]);
        }
      },
    },
  };
})();
