"""Row-wise logsumexp, softmax and log_softmax: the book's NumPy code against SciPy and PyTorch.

    python bench/softmax.py [--rounds 25]            (or `make bench`)
    python bench/softmax.py --write bench/results/softmax.txt [--note "..."]

One run, side by side, on a (2000, 1000) array in float64 and in float32. The contenders:
the book's function (byhand.nn, the code chapters 2-4 show); the same function with NumPy's
default buffer instead of `row_buffer` (chapter 2, section 2.5: what one row per inner loop
buys); SciPy's (scipy.special); PyTorch's (CPU, at its default threads and at one thread).
Each round times every contender, in a rotating order, as the fastest of three calls in a row
(a call that another process interrupted is not the fastest), so that a noisy machine slows
all of them alike. A ratio is taken within each round (the book's time over the other's,
measured a fraction of a second apart) and the table gives its median over the rounds and
its range (min to max).
PyTorch is optional: where it is not installed its columns say so (but --write refuses:
the chapters quote them). NumPy and SciPy run these element-wise passes and reductions on one
thread; PyTorch fuses softmax's and log_softmax's passes into one C++ kernel and spreads it
over its threads (its logsumexp runs as separate operations).
Targets (issue "Chapters 3-5"): never slower than SciPy; logsumexp <= 0.4x, softmax and
log_softmax <= 0.9x SciPy's time.

--write also saves every median, ratio and range, the versions, thread counts and the
machine, to a small TOML file, which chapters 2, 3 and 4 read and quote.
"""

import argparse
import contextlib
import importlib
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.special

from byhand.nn import log_softmax, logsumexp, softmax

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/, however this is run
from record import describe_machine, results_head, toml_value  # noqa: E402

SHAPE = (2000, 1000)
SCALE = 10.0            # logits: standard normal times SCALE
ROUNDS = 25
REPEATS = 3             # a contender's time in a round: the fastest of 3 calls in a row
DTYPES = ("float64", "float32")
TARGETS = {"logsumexp": 0.4, "softmax": 0.9, "log_softmax": 0.9}
OTHERS = ("default_buffer", "scipy", "torch", "torch_1")   # each compared with "byhand"

try:
    import torch
except ImportError:  # optional
    torch = None


def default_buffer(name, function):
    """`function` (byhand.nn.<name>) run with NumPy's default buffer: its module's
    `row_buffer` replaced by a context that does nothing, for the duration of the call."""
    module = importlib.import_module(f"byhand.nn.{name}")

    def run(x):
        saved = module.row_buffer
        module.row_buffer = lambda x: contextlib.nullcontext()
        try:
            return function(x)
        finally:
            module.row_buffer = saved
    return run


@contextlib.contextmanager
def torch_threads(n):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def implementations(dtype=None):
    """{function name: {contender: callable}}; PyTorch's take a tensor, the others an array.
    (`dtype` is not used: every contender keeps its input's dtype.)"""
    ours = {
        "logsumexp": lambda x: logsumexp(x, axis=1),
        "softmax": lambda x: softmax(x, axis=1),
        "log_softmax": lambda x: log_softmax(x, axis=1),
    }
    theirs = {
        "logsumexp": lambda x: scipy.special.logsumexp(x, axis=1),
        "softmax": lambda x: scipy.special.softmax(x, axis=1),
        "log_softmax": lambda x: scipy.special.log_softmax(x, axis=1),
    }
    table = {name: {"byhand": ours[name], "default_buffer": default_buffer(name, ours[name]),
                    "scipy": theirs[name]} for name in ours}
    if torch is not None:
        pytorch = {"logsumexp": torch.logsumexp, "softmax": torch.softmax,
                   "log_softmax": torch.log_softmax}
        for name, function in pytorch.items():
            table[name]["torch"] = lambda t, f=function: f(t, dim=1)

            def one_thread(t, f=function):
                with torch_threads(1):
                    return f(t, dim=1)
            table[name]["torch_1"] = one_thread
    return table


def seconds(function, argument):
    start = time.perf_counter()
    function(argument)
    return time.perf_counter() - start


def measure(name, contenders, x, t, rounds):
    """Time each contender `rounds` times, rotating the order; return the figures as a dict:
    medians in ms, and per-round ratios (ours over each other) as median, min and max."""
    for who, function in contenders.items():     # warm up, and agree before timing
        result = function(t if who.startswith("torch") else x)
        result = result.numpy() if who.startswith("torch") else result
        np.testing.assert_allclose(result, contenders["scipy"](x), rtol=1e-4, atol=1e-5)
        assert result.dtype == x.dtype, (name, who)
    times = {who: [] for who in contenders}
    order = list(contenders)
    for round_ in range(rounds):
        for who in order[round_ % len(order):] + order[: round_ % len(order)]:
            argument = t if who.startswith("torch") else x
            times[who].append(min(seconds(contenders[who], argument) for _ in range(REPEATS)))
    figures = {f"{who}_ms": round(statistics.median(v) * 1e3, 3) for who, v in times.items()}
    for other in OTHERS:
        if other in times:
            ratios = [a / b for a, b in zip(times["byhand"], times[other])]
            figures[f"over_{other}"] = round(statistics.median(ratios), 3)
            figures[f"over_{other}_min"] = round(min(ratios), 3)
            figures[f"over_{other}_max"] = round(max(ratios), 3)
    figures["target_over_scipy"] = TARGETS[name]
    figures["target_met"] = figures["over_scipy"] <= TARGETS[name]
    return figures


def ratio_text(figures, other):
    if f"over_{other}" not in figures:
        return f"{'-':>16}"
    return (f"{figures[f'over_{other}']:5.2f} ({figures[f'over_{other}_min']:.2f}-"
            f"{figures[f'over_{other}_max']:.2f})")


def run(rounds):
    """Time everything, print the table, and return the run's figures as a dict."""
    rng = np.random.default_rng(0)
    threads = torch.get_num_threads() if torch is not None else None
    print(f"{describe_machine()}; NumPy {np.__version__}, SciPy {scipy.__version__}, "
          + (f"PyTorch {torch.__version__} ({threads} threads, and 1)" if torch
             else "PyTorch not installed: its columns are skipped (pip install torch)"))
    print(f"array {SHAPE}, standard normal x {SCALE:g}; {rounds} interleaved rounds, each "
          f"the fastest of {REPEATS} calls.\nTimes are medians; a ratio (ours / theirs) is "
          "the median of the rounds' ratios (min-max over the rounds)\n")
    print(f"{'function':<12} {'dtype':<8} {'ours ms':>8} {'scipy ms':>9} {'torch ms':>9}"
          f" {'ours / scipy':>16} {'ours / torch':>16}  target")
    results = {}
    for dtype in DTYPES:
        x = (rng.standard_normal(SHAPE) * SCALE).astype(dtype)     # (2000, 1000)
        t = torch.from_numpy(x) if torch is not None else None
        results[dtype] = {}
        for name, contenders in implementations().items():
            figures = measure(name, contenders, x, t, rounds)
            results[dtype][name] = figures
            torch_ms = f"{figures['torch_ms']:9.2f}" if "torch_ms" in figures else f"{'-':>9}"
            print(f"{name:<12} {dtype:<8} {figures['byhand_ms']:8.2f} "
                  f"{figures['scipy_ms']:9.2f} {torch_ms} {ratio_text(figures, 'scipy')} "
                  f"{ratio_text(figures, 'torch')} {'<= ' + str(TARGETS[name]):>7} "
                  f"{'ok' if figures['target_met'] else 'MISSED'}")
    for other, title in (("torch_1", "ours / PyTorch at one thread"),
                         ("default_buffer", "ours / ours with NumPy's default buffer (no "
                                            "row_buffer)")):
        print(f"\n{title}:")
        for dtype in DTYPES:
            print(f"  {dtype}: " + ", ".join(f"{name} {ratio_text(figures, other).strip()}"
                                             for name, figures in results[dtype].items()))
    met = all(f["target_met"] for by_name in results.values() for f in by_name.values())
    print("\nall targets met" if met else "\nsome targets missed (see MISSED above)")
    run_ = dict(machine=describe_machine(), numpy=np.__version__, scipy=scipy.__version__,
                torch=torch.__version__ if torch else "not installed",
                numpy_threads=1, torch_threads=threads or 0, rounds=rounds, repeats=REPEATS,
                shape=list(SHAPE), scale=SCALE, dtypes=list(DTYPES))
    return run_, results


# ---------------------------------------------------------------- the results file (--write)

def write_results(path, run_, results, note):
    """The run's settings and every function's figures, as a TOML file (tomllib reads it;
    chapters 2, 3 and 4 quote it)."""
    comments = [
        "# logsumexp, softmax and log_softmax along the rows of a (2000, 1000) array: this",
        "# book's NumPy code (byhand.nn) against SciPy and PyTorch (CPU), side by side in one",
        "# run. Written by `python bench/softmax.py --write PATH`, in TOML syntax (Python's",
        "# tomllib reads it). A contender's time in a round is its fastest of `repeats` calls",
        "# in a row. Times (_ms) are medians over the rounds, in milliseconds; a ratio over_X",
        "# is the median over the rounds of ours / X's time in the same round, with its",
        "# min and max. default_buffer is ours with NumPy's default buffer (no row_buffer);",
        "# torch_1 is PyTorch at one thread. NumPy and SciPy run these passes on one thread.",
        "# Chapters 2, 3 and 4 quote this file.",
    ]
    lines = results_head(comments, note) + ["[run]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in run_.items()]
    for dtype, by_name in results.items():
        for name, figures in by_name.items():
            lines += ["", f"[{dtype}.{name}]"]
            lines += [f"{key} = {toml_value(value)}" for key, value in figures.items()]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--write", metavar="PATH", default=None,
                        help="write the run's figures to PATH (bench/results/softmax.txt)")
    parser.add_argument("--note", default="",
                        help="with --write: a remark for the file's header (e.g. the machine "
                             "was busy)")
    args = parser.parse_args(argv)
    if args.write and torch is None:
        raise SystemExit("--write needs PyTorch (chapter 2 quotes its figures): "
                         "pip install torch")
    run_, results = run(args.rounds)
    if args.write:
        write_results(args.write, run_, results, args.note)
        print(f"\nwritten: {args.write}")


if __name__ == "__main__":
    main()
