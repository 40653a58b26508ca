"""How soon a chapter page's math is readable, and when the page has loaded, in Chromium.

    python bench/pages.py [SITE] [--runs N]

For each chapter page of the built book (SITE, default _build/html), served locally by a static
server of its own over HTTP/1.1, as a web host serves it, seconds from navigation until
- math: the first screen is drawn with its formulas: the page has been read past the bottom of
  the screen, any MathJax in the page has typeset, and every font the formulas on the screen
  are drawn in has loaded, in two frames in a row (the first has been painted);
- all math: every formula of the page is in place: the whole page has been read
  (DOMContentLoaded), MathJax (if any) has typeset, and the fonts the page asked for have loaded;
- load: the `load` event has ended;
- widgets: on pages with explorers, every widget has been drawn;
on a desktop (1366 px, the CPU as it is) and on a phone-like setting (390 px, the CPU slowed 4x
through Chromium's DevTools protocol). Medians of N runs (3 by default) on this machine, which is
noisy: compare rows measured in the same run, or two sites measured one after the other (e.g. the
book before and after a change).

Targets (issue "Readers everywhere"): at 4x, math readable <= 2.0 s and load <= 3.5 s; at 1x,
<= 0.8 s and <= 1.2 s. "Math readable" is the first screen's math: the book's formulas are
MathML written when it is built, so each is drawn as soon as the page has been read that far
(with MathJax in the page, the whole page was typeset before any formula was). "All math" is
printed beside it, and judged against the same target. The widgets have no target; they are
printed so that a page that gets to `load` sooner by drawing its widgets later shows what that
costs.
"""

import argparse
import contextlib
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from browser import chromium  # noqa: E402  (the tests' browser)

TARGETS = {1: (0.8, 1.2), 4: (2.0, 3.5)}
VIEWPORTS = {1: {"width": 1366, "height": 900}, 4: {"width": 390, "height": 844}}

# Runs in the page from its first script on: promises of the times (ms since navigation) at which
# the whole page's math is in place (__mathReady), the first screen is drawn with its math
# (__firstScreen), and every stored widget view has been drawn (__widgetsReady; null on a page
# without widgets). See the docstring for what each waits for.
MATH_READY = """
window.__mathReady = new Promise((resolve) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const measure = async () => {
    const mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) await mj.startup.promise;
    await frame();
    await frame();
    await document.fonts.ready;
    resolve(performance.now());
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", measure);
  else measure();
});
window.__firstScreen = new Promise((resolve) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const pastFirstScreen = () => {
    if (document.readyState !== "loading") return true;
    const main = document.getElementById("main-content");
    return Boolean(main) && main.getBoundingClientRect().bottom > innerHeight;
  };
  const typeset = () => new Promise((r) => {
    const done = async () => {
      const mj = window.MathJax;
      if (mj && mj.startup && mj.startup.promise) await mj.startup.promise;
      r();
    };
    // MathJax in the page typesets after the whole page has been read
    const mathjax = [...document.scripts].some((s) => /mathjax/i.test(s.src) && !/shim/.test(s.src));
    if (mathjax && document.readyState === "loading") document.addEventListener("DOMContentLoaded", done);
    else done();
  });
  // The fonts of the formulas on the screen (every family their elements are drawn in) loaded.
  const screenFontsLoaded = () => {
    const families = new Set();
    for (const m of document.querySelectorAll("math, mjx-container")) {
      const r = m.getBoundingClientRect();
      if (r.bottom <= 0 || r.top >= innerHeight || r.width === 0) continue;
      for (const el of [m, ...m.querySelectorAll("*")]) families.add(getComputedStyle(el).fontFamily);
    }
    return [...families].every((f) => document.fonts.check(`16px ${f}`));
  };
  (async () => {
    for (;;) {
      await frame();
      if (!pastFirstScreen()) continue;
      await typeset();
      if (!screenFontsLoaded()) continue;
      await frame();
      if (screenFontsLoaded()) return resolve(performance.now());
    }
  })();
});
window.__widgetsReady = new Promise((resolve) => {
  const VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';
  const drawn = () => [...document.querySelectorAll(VIEW)]
    .every((s) => s.parentElement.querySelector(".jupyter-widgets"));
  const watch = () => {
    if (!document.querySelector(VIEW)) return resolve(null);
    const check = () => drawn() && (observer.disconnect(), resolve(performance.now()));
    const observer = new MutationObserver(check);
    observer.observe(document.body, {childList: true, subtree: true});
    check();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
});
"""


@contextlib.contextmanager
def static_server(site):
    """The site served as a web host would: by a server process of its own, over HTTP/1.1 (kept
    connections). Yields its base URL.

    Not the tests' server (tests/browser.py), which runs in the Playwright process and has every
    request pass through Playwright to be allowed or blocked: that held each of a page's 25
    requests for tens of milliseconds, and put 0.3-0.4 s before a page's first paint that were
    the benchmark's own (measured side by side). Requests to other hosts are watched instead."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(site),
         "--protocol", "HTTP/1.1", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base, timeout=1).close()
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit(f"the server for {site} did not start")
                time.sleep(0.1)
        else:
            sys.exit(f"the server for {site} did not answer within 10 s")
        yield base
    finally:
        server.terminate()
        server.wait()


def measure(browser, base, path, rate):
    context = browser.new_context(viewport=VIEWPORTS[rate])
    page = context.new_page()
    blocked = []
    # Watched, not intercepted (static_server says why); Chromium runs with background
    # networking off, and the tests block and fail any request to another host.
    page.on("request", lambda r: r.url.startswith(("data:", "blob:", base)) or blocked.append(r.url))
    page.add_init_script(MATH_READY)
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    page.goto(base + path, wait_until="load")
    # Each waits at most a minute: a font that fails to load would keep a promise pending.
    times = {}
    for name, promise in (("the first screen's math", "__firstScreen"),
                          ("the whole page's math", "__mathReady"), ("the widgets", "__widgetsReady")):
        times[name] = page.evaluate(
            f"() => Promise.race([window.{promise}, new Promise((r) => setTimeout(() => r(-1), 60000))])")
        if times[name] == -1:
            sys.exit(f"{path}: {name} not drawn within 60 s")
    first_ms, math_ms, widgets_ms = times.values()
    load_ms = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
    formulas = page.locator("span.math, div.math").count()
    context.close()
    if blocked:
        sys.exit(f"{path} asked for other hosts: {blocked}")
    return (first_ms / 1000, math_ms / 1000, load_ms / 1000,
            None if widgets_ms is None else widgets_ms / 1000, formulas)


def cell(seconds):
    return f"{seconds:>13.2f}" if seconds is not None else f"{'-':>13}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", default=str(ROOT / "_build" / "html"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    site = Path(args.site)
    pages = sorted(p.relative_to(site).as_posix() for p in (site / "chapters").glob("*.html"))
    if not pages:
        sys.exit(f"no chapter pages in {site}: run `make book` first")
    print(f"Chapter pages of {site}: seconds from navigation, median of {args.runs} runs")
    columns = ("math", "all math", "load", "widgets")
    print(f"{'page':<28}{'formulas':>9}" + "".join(
        f"{f'{rate}x {what}':>13}" for rate in (1, 4) for what in columns))
    worst = {1: [0, 0, 0], 4: [0, 0, 0]}  # math, all math, load
    browser_gen = chromium()
    browser = next(browser_gen)
    try:
        with static_server(site) as base:
            for path in pages:
                row = []
                for rate in (1, 4):
                    runs = [measure(browser, base, path, rate) for _ in range(args.runs)]
                    medians = [statistics.median(r[i] for r in runs) for i in range(3)]
                    widgets = [r[3] for r in runs if r[3] is not None]
                    worst[rate] = [max(w, m) for w, m in zip(worst[rate], medians)]
                    row += medians + [statistics.median(widgets) if widgets else None]
                    formulas = runs[-1][4]
                print(f"{path:<28}{formulas:>9}" + "".join(cell(v) for v in row))
    finally:
        browser_gen.close()
    for rate, (math_target, load_target) in TARGETS.items():
        math_s, all_math_s, load_s = worst[rate]
        verdict = "met" if math_s <= math_target and load_s <= load_target else "NOT met"
        print(f"{rate}x: slowest page math {math_s:.2f} s (target <= {math_target}), "
              f"load {load_s:.2f} s (target <= {load_target}): {verdict}; all math "
              f"{all_math_s:.2f} s: {'within' if all_math_s <= math_target else 'NOT within'} "
              "the math target too")


if __name__ == "__main__":
    main()
