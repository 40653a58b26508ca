// The ipywidgets HTML manager (html-manager 1.0.x) typesets widget labels through the MathJax 2
// API, `MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])`, whenever `window.MathJax` exists.
// The book loads MathJax 3, which has no `Hub`, so every labelled widget would throw. This shim
// gives whatever object sits at `window.MathJax` (Sphinx's config object first, MathJax itself
// once it starts) a `Hub` whose `Queue` hands the element to MathJax 3's `typesetPromise`.
// Order does not matter as long as it runs before MathJax's own (deferred) startup script.
(function () {
  "use strict";
  var MAX_WAIT_MS = 20000;

  function typeset(element, waited) {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise && mj.typesetPromise) {
      mj.startup.promise
        .then(function () { return mj.typesetPromise(element ? [element] : undefined); })
        .catch(function (err) { console.warn("MathJax could not typeset a widget label:", err); });
    } else if (waited < MAX_WAIT_MS) {
      // MathJax loads deferred; widgets may render first.
      setTimeout(function () { typeset(element, waited + 50); }, 50);
    }
  }

  var hub = {
    Queue: function () {
      for (var i = 0; i < arguments.length; i++) {
        var job = arguments[i];
        if (Array.isArray(job) && job[0] === "Typeset") typeset(job[2], 0);
      }
    },
  };

  function withHub(value) {
    if (value && typeof value === "object" && !("Hub" in value)) {
      Object.defineProperty(value, "Hub", { value: hub, enumerable: false, configurable: true });
    }
    return value;
  }

  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); },
  });
})();
