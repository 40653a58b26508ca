// The explorers' widget manager (vendor/widgets/embed.js, 1.8 MB) is loaded once the page has
// loaded, not in the page's head.
//
// In the head it held up the page: the browser stops reading the page while it compiles and runs
// the bundle (1 s at 4x CPU throttling), and the manager draws every widget inside the page's
// `load` event (5 s on chapter 5 at 4x). The text and the math do not need it, and the explorers
// sit further down the page: they are drawn a moment after the rest, as before (bench/pages.py
// times both).
//
// The manager draws the widgets from a `load` listener it adds when it runs. Run after `load`,
// that listener would never be called: while the bundle runs, a `load` listener it adds is
// called at once instead (in a task of its own, as the event would have).
(function () {
  "use strict";
  var script = document.currentScript;
  var source = new URL("../widgets/embed.js", script.src).href;

  function load() {
    var add = window.addEventListener;
    window.addEventListener = function (type, listener, options) {
      if (type === "load") {
        setTimeout(function () {
          if (typeof listener === "function") listener.call(window, new Event("load"));
          else listener.handleEvent(new Event("load"));
        });
        return;
      }
      return add.call(window, type, listener, options);
    };
    var manager = document.createElement("script");
    manager.src = source;
    manager.onload = manager.onerror = function () {
      window.addEventListener = add;
    };
    document.head.appendChild(manager);
  }

  if (document.readyState === "complete") load();
  else window.addEventListener("load", function () { setTimeout(load); });
})();
