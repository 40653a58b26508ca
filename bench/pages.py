"""How soon a chapter page's math is readable, and when the page has loaded, in Chromium.

    python bench/pages.py [SITE] [--runs N]

For each chapter page of the built book (SITE, default _build/html), served locally: the time
from navigation until the formulas are drawn (typeset, if MathJax runs in the page, and the math
fonts loaded), until the `load` event has ended, and, on pages with explorers, until every
widget is drawn; on a desktop (1366 px, the CPU as it is) and on a phone-like setting (390 px,
the CPU slowed 4x through Chromium's DevTools protocol). Medians of N runs (3 by default) on
this machine, which is noisy: compare rows measured in the same run, or two sites measured one
after the other (e.g. the book before and after a change).

Targets (issue "Readers everywhere"): at 4x, math readable <= 2.0 s and load <= 3.5 s; at 1x,
<= 0.8 s and <= 1.2 s. The widgets have no target; they are printed so that a page that gets
to `load` sooner by drawing its widgets later shows what that costs.
"""

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from browser import chromium, only_local, serve  # noqa: E402  (the tests' server and browser)

TARGETS = {1: (0.8, 1.2), 4: (2.0, 3.5)}
VIEWPORTS = {1: {"width": 1366, "height": 900}, 4: {"width": 390, "height": 844}}

# Runs in the page from its first script on: resolves with the time (ms since navigation) at
# which the math is drawn. MathJax in the page (a site that typesets in the browser) is awaited
# first; then the fonts the laid-out page asked for. And the time at which every stored widget
# view has been drawn (null on a page without widgets).
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


def measure(browser, base, path, rate):
    context = browser.new_context(viewport=VIEWPORTS[rate])
    page = context.new_page()
    blocked = []
    page.route("**/*", only_local(base, blocked))
    page.add_init_script(MATH_READY)
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    page.goto(base + path, wait_until="load")
    math_ms = page.evaluate("() => window.__mathReady")
    load_ms = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
    widgets_ms = page.evaluate(
        "() => Promise.race([window.__widgetsReady, new Promise((r) => setTimeout(() => r(-1), 60000))])")
    if widgets_ms == -1:
        sys.exit(f"{path}: the widgets were not drawn within 60 s")
    formulas = page.locator("span.math, div.math").count()
    context.close()
    if blocked:
        sys.exit(f"{path} asked for other hosts: {blocked}")
    return math_ms / 1000, load_ms / 1000, None if widgets_ms is None else widgets_ms / 1000, formulas


def cell(seconds):
    return f"{seconds:>11.2f}" if seconds is not None else f"{'-':>11}"


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
    print(f"{'page':<28}{'formulas':>9}" + "".join(
        f"{f'{rate}x {what}':>11}" for rate in (1, 4) for what in ("math", "load", "widgets")))
    worst = {1: [0, 0], 4: [0, 0]}
    server = serve(site)
    base = next(server)
    browser_gen = chromium()
    browser = next(browser_gen)
    try:
        for path in pages:
            row = []
            for rate in (1, 4):
                runs = [measure(browser, base, path, rate) for _ in range(args.runs)]
                math_s = statistics.median(r[0] for r in runs)
                load_s = statistics.median(r[1] for r in runs)
                widgets = [r[2] for r in runs if r[2] is not None]
                widgets_s = statistics.median(widgets) if widgets else None
                worst[rate] = [max(worst[rate][0], math_s), max(worst[rate][1], load_s)]
                row += [math_s, load_s, widgets_s]
                formulas = runs[-1][3]
            print(f"{path:<28}{formulas:>9}" + "".join(cell(v) for v in row))
    finally:
        for gen in (browser_gen, server):
            gen.close()
    for rate, (math_target, load_target) in TARGETS.items():
        math_s, load_s = worst[rate]
        verdict = "met" if math_s <= math_target and load_s <= load_target else "NOT met"
        print(f"{rate}x: slowest page math {math_s:.2f} s (target <= {math_target}), "
              f"load {load_s:.2f} s (target <= {load_target}): {verdict}")


if __name__ == "__main__":
    main()
