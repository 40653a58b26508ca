"""Row-wise logsumexp, softmax and log_softmax: the book's NumPy code against SciPy and PyTorch.

    python bench/softmax.py            (or `make bench`)

One run, side by side, on a (2000, 1000) array in float64 and in float32. Each round times every
implementation once, in a rotating order, so that a noisy machine slows all of them alike; the
table gives the median over the rounds and the ratio of medians to SciPy's. PyTorch is optional:
where it is not installed its column says so. Targets (issue "Chapters 3-5"): never slower than
SciPy; logsumexp <= 0.4x, softmax and log_softmax <= 0.9x SciPy's time.
"""

import os
import statistics
import time

import numpy as np
import scipy
import scipy.special

from byhand.nn import log_softmax, logsumexp, softmax

SHAPE = (2000, 1000)
ROUNDS = 25
TARGETS = {"logsumexp": 0.4, "softmax": 0.9, "log_softmax": 0.9}

try:
    import torch
except ImportError:  # optional
    torch = None


def implementations(dtype):
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
    table = {name: {"byhand": ours[name], "scipy": theirs[name]} for name in ours}
    if torch is not None:
        table["logsumexp"]["torch"] = lambda t: torch.logsumexp(t, dim=1)
        table["softmax"]["torch"] = lambda t: torch.softmax(t, dim=1)
        table["log_softmax"]["torch"] = lambda t: torch.log_softmax(t, dim=1)
    return table


def seconds(function, argument):
    start = time.perf_counter()
    function(argument)
    return time.perf_counter() - start


def main():
    rng = np.random.default_rng(0)
    print(f"NumPy {np.__version__}, SciPy {scipy.__version__}, "
          + (f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)" if torch
             else "PyTorch not installed: its column is skipped (pip install torch to add it)"))
    print(f"{os.cpu_count()} CPUs; array {SHAPE}; median of {ROUNDS} interleaved rounds\n")
    print(f"{'function':<12} {'dtype':<8} {'byhand ms':>10} {'scipy ms':>9} {'torch ms':>9}"
          f" {'byhand/scipy':>13} {'target':>7}")
    met = True
    for dtype in (np.float64, np.float32):
        x = (rng.standard_normal(SHAPE) * 10).astype(dtype)
        t = torch.from_numpy(x) if torch is not None else None
        for name, contenders in implementations(dtype).items():
            for who, function in contenders.items():  # warm up, and agree before timing
                result = function(t if who == "torch" else x)
                result = result.numpy() if who == "torch" else result
                np.testing.assert_allclose(result, contenders["scipy"](x), rtol=1e-4, atol=1e-5)
            times = {who: [] for who in contenders}
            order = list(contenders)
            for round_ in range(ROUNDS):
                for who in order[round_ % len(order):] + order[: round_ % len(order)]:
                    times[who].append(seconds(contenders[who], t if who == "torch" else x))
            median = {who: statistics.median(v) * 1e3 for who, v in times.items()}
            ratio = median["byhand"] / median["scipy"]
            ok = ratio <= TARGETS[name]
            met &= ok
            torch_ms = f"{median['torch']:9.2f}" if "torch" in median else f"{'-':>9}"
            print(f"{name:<12} {np.dtype(dtype).name:<8} {median['byhand']:10.2f} "
                  f"{median['scipy']:9.2f} {torch_ms} {ratio:13.2f} "
                  f"{'<= ' + str(TARGETS[name]):>7} {'ok' if ok else 'MISSED'}")
    print("\nall targets met" if met else "\nsome targets missed (see MISSED above)")


if __name__ == "__main__":
    main()
