"""One training epoch on MNIST: the book's NumPy network against PyTorch and against its own
matrix products.

    python bench/mnist_epoch.py [--rounds 5] [--batch 128] [--threads N]   (or `make bench`)
    python bench/mnist_epoch.py --write bench/results/mnist_epoch.txt [--note "..."]

The network is chapter 10's, imported from byhand.nn.mlp (the code the chapter shows):
784-256-128-10, ReLU, softmax cross-entropy, SGD with momentum 0.9, float32. PyTorch (CPU)
trains the same network: same initial weights, same batches in the same order, same dtype,
same update (v <- 0.9 v + g, p <- p - lr v, PyTorch's SGD). The "floor" runs the same epoch's
matrix products alone, with preallocated outputs: no implementation of this network can beat it.

Rounds alternate NumPy, floor and PyTorch (rotating the order) so a noisy machine slows all of
them alike; each round restarts from the same weights. One warm-up round comes first and is not
counted. The table gives the median over the other rounds; ratios are ratios of medians.
Targets: NumPy's epoch <= 0.8 x PyTorch's at the libraries' default threads, and <= 1.3 x
the floor at one thread (both ratios are printed for any thread count). PyTorch is optional:
where it is not installed its column is skipped (but --write refuses: the chapter quotes it).

--write runs the script twice (default threads, then --threads 1, each in a fresh process:
the thread count must be set before NumPy loads) and writes both runs' medians, ratios and the
targets to a small TOML file, which chapter 10 reads and quotes.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if "--threads" in sys.argv[:-1]:   # must be set before NumPy (OpenBLAS) and PyTorch load
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = sys.argv[sys.argv.index("--threads") + 1]

import numpy as np  # noqa: E402

from byhand.data import load_mnist  # noqa: E402
from byhand.nn.mlp import init_mlp, loss_and_gradients, sgd_momentum  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/, however this is run
from record import describe_machine, results_head, toml_value  # noqa: E402

try:
    import torch
except ImportError:  # optional
    torch = None

SIZES = (784, 256, 128, 10)
LR, MOMENTUM = 0.1, 0.9
TARGET_TORCH, TARGET_FLOOR = 0.8, 1.3


# ---------------------------------------------------------------- the book's network (chapter 10)

def numpy_epoch(params, X, y, order, batch):
    """One epoch of chapter 10's training loop at a constant step size; returns the last loss."""
    velocities = [np.zeros_like(p) for p in params]
    xb = np.empty((batch, X.shape[1]), X.dtype)
    lr = X.dtype.type(LR)
    for start in range(0, len(order), batch):
        idx = order[start:start + batch]
        xs = np.take(X, idx, axis=0, out=xb[:len(idx)])
        loss, grads = loss_and_gradients(params, xs, y[idx])
        sgd_momentum(params, grads, velocities, lr, MOMENTUM)
    return float(loss)


# ---------------------------------------------------------------- the same epoch's products alone

def products(n, sizes=SIZES):
    """The matrix products of one step on a batch of n: (m, k, n) of an (m, k) @ (k, n)."""
    d0, d1, d2, d3 = sizes
    forward = [(n, d0, d1), (n, d1, d2), (n, d2, d3)]
    backward = [(d2, n, d3), (n, d3, d2),     # dW3 = Z2^T dA3, dZ2 = dA3 W3^T
                (d1, n, d2), (n, d2, d1),     # dW2, dZ1
                (d0, n, d1)]                  # dW1 (no dX for the pixels)
    return forward + backward


def epoch_flops(n_examples, batch):
    sizes = [batch] * (n_examples // batch) + ([n_examples % batch] if n_examples % batch else [])
    return sum(2 * m * k * p for n in sizes for m, k, p in products(n))


def floor_epoch(params, X, order, batch):
    """Every matrix product of the epoch, on the real operands' shapes, outputs preallocated."""
    W1, _, W2, _, W3, _ = params
    rng = np.random.default_rng(1)
    work = {}

    def buffers(n):
        if n not in work:
            d0, d1, d2, d3 = SIZES
            f = X.dtype
            work[n] = dict(
                xb=np.empty((n, d0), f), A1=np.empty((n, d1), f), A2=np.empty((n, d2), f),
                A3=np.empty((n, d3), f), dA3=rng.standard_normal((n, d3)).astype(f),
                dZ2=np.empty((n, d2), f), dZ1=np.empty((n, d1), f),
                dW3=np.empty((d2, d3), f), dW2=np.empty((d1, d2), f), dW1=np.empty((d0, d1), f))
        return work[n]

    for start in range(0, len(order), batch):
        idx = order[start:start + batch]
        b = buffers(len(idx))
        np.take(X, idx, axis=0, out=b["xb"])     # the batch must be gathered anyway
        np.matmul(b["xb"], W1, out=b["A1"])
        np.matmul(b["A1"], W2, out=b["A2"])
        np.matmul(b["A2"], W3, out=b["A3"])
        np.matmul(b["A2"].T, b["dA3"], out=b["dW3"])
        np.matmul(b["dA3"], W3.T, out=b["dZ2"])
        np.matmul(b["A1"].T, b["dZ2"], out=b["dW2"])
        np.matmul(b["dZ2"], W2.T, out=b["dZ1"])
        np.matmul(b["xb"].T, b["dZ1"], out=b["dW1"])


# ---------------------------------------------------------------- PyTorch, the same network

def torch_setup(params):
    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(),
        torch.nn.Linear(SIZES[1], SIZES[2]), torch.nn.ReLU(),
        torch.nn.Linear(SIZES[2], SIZES[3]))
    with torch.no_grad():
        for layer, W, b in zip(model[::2], params[::2], params[1::2]):
            layer.weight.copy_(torch.from_numpy(W.T))    # PyTorch stores W as (out, in)
            layer.bias.copy_(torch.from_numpy(b))
    return model


def torch_epoch(model, X, y, order, batch):
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    order = torch.from_numpy(order)
    for start in range(0, len(order), batch):
        idx = order[start:start + batch]
        loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return loss.item()


def agreement(initial, X, y, order, batch, steps=20):
    """The largest relative difference between NumPy's and PyTorch's weights after `steps`
    identical steps from the same start: float32 round-off only, if both compute the same."""
    params = [p.copy() for p in initial]
    model = torch_setup(params)
    numpy_epoch(params, X, y, order[:steps * batch], batch)
    torch_epoch(model, torch.from_numpy(X), torch.from_numpy(y), order[:steps * batch], batch)
    theirs = [t.detach().numpy() for layer in model[::2] for t in (layer.weight.T, layer.bias)]
    return max(float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in zip(params, theirs))


# ---------------------------------------------------------------- measuring

def matmul_peak(dtype=np.float32, size=2048, repeats=5):
    """The best float32 matrix-product rate this machine reaches (FLOP/s), on big squares."""
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal((size, size)).astype(dtype) for _ in range(2))
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    best = min(_seconds(lambda: np.matmul(a, b, out=out)) for _ in range(repeats))
    return 2 * size**3 / best


def _seconds(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def measure(args):
    """Time the epochs (printing as it goes) and return the figures as a dict."""
    if torch is not None and args.threads:
        torch.set_num_threads(args.threads)
    X_train, y_train, _, _ = load_mnist()
    X = X_train.reshape(len(X_train), -1).astype(np.float32) / np.float32(255)  # (60000, 784)
    y = y_train.astype(np.int64)
    rng = np.random.default_rng(0)
    initial = init_mlp(SIZES, rng)
    orders = [rng.permutation(len(X)) for _ in range(args.rounds + 1)]   # + a warm-up

    threads = args.threads or (torch.get_num_threads() if torch else os.cpu_count())
    print(f"Machine: {describe_machine()}; NumPy {np.__version__}, "
          + (f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)" if torch
             else "PyTorch not installed: its column is skipped (pip install torch to add it)"))
    flops = epoch_flops(len(X), args.batch)
    peak = matmul_peak()
    print(f"Network {'-'.join(map(str, SIZES))}, float32, batch {args.batch}, "
          f"{-(-len(X) // args.batch)} steps per epoch, {flops / 1e9:.1f} GFLOP per epoch "
          "(matrix products)")

    runners = {"numpy": None, "floor": None}
    if torch is not None:
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        runners["torch"] = None
    times = {who: [] for who in runners}
    losses = {"numpy": [], "torch": []}
    for round_, order in enumerate(orders):
        who_first = list(runners)[round_ % len(runners):] + list(runners)[:round_ % len(runners)]
        for who in who_first:
            params = [p.copy() for p in initial]
            if who == "numpy":
                seconds = _seconds(lambda: losses["numpy"].append(
                    numpy_epoch(params, X, y, order, args.batch)))
            elif who == "floor":
                seconds = _seconds(lambda: floor_epoch(params, X, order, args.batch))
            else:
                model = torch_setup(params)
                seconds = _seconds(lambda: losses["torch"].append(
                    torch_epoch(model, Xt, yt, order, args.batch)))
            times[who].append(seconds)
        line = ", ".join(f"{who} {times[who][-1]:.2f} s" for who in runners)
        print(f"{f'round {round_}' if round_ else 'warm-up'}: {line}", flush=True)
    # the warm-up round pays one-time costs (PyTorch's first calls, first page faults): not counted
    times = {who: t[1:] for who, t in times.items()}

    peak = max(peak, matmul_peak())          # measured before and after: the better of two
    print(f"\nfloat32 matmul peak (2048 x 2048 products, best of 10): {peak / 1e9:.0f} GFLOP/s")
    median = {who: statistics.median(t) for who, t in times.items()}
    print(f"\n{'':22} {'median s':>9} {'min s':>7} {'max s':>7} {'GFLOP/s':>8} {'of peak':>8}")
    names = {"numpy": "NumPy (byhand.nn)", "torch": "PyTorch CPU", "floor": "matrix products only"}
    for who in runners:
        rate = flops / median[who]
        print(f"{names[who]:22} {median[who]:9.2f} {min(times[who]):7.2f} "
              f"{max(times[who]):7.2f} {rate / 1e9:8.1f} {rate / peak:8.0%}")
    result = dict(
        threads=threads, rounds=args.rounds, batch=args.batch,
        steps=-(-len(X) // args.batch), gflop=round(flops / 1e9, 2),
        matmul_peak_gflops=round(peak / 1e9, 1), machine=describe_machine(), numpy=np.__version__,
        torch=torch.__version__ if torch else "not installed")
    for who in runners:
        result[f"{who}_median_s"] = round(median[who], 4)
        result[f"{who}_min_s"] = round(min(times[who]), 4)
        result[f"{who}_max_s"] = round(max(times[who]), 4)
    result["numpy_over_floor"] = round(median["numpy"] / median["floor"], 3)
    if torch is not None:   # the two implementations compute the same thing
        difference = agreement(initial, X, y, orders[1], args.batch)
        print(f"\nsame computation: after 20 steps the weights differ by {difference:.1e} "
              "(relative, float32 round-off)")
        assert difference < 1e-4, "NumPy and PyTorch do not train the same network"
        result["numpy_over_torch"] = round(median["numpy"] / median["torch"], 3)
        result["torch_over_floor"] = round(median["torch"] / median["floor"], 3)
        result["weights_relative_difference_after_20_steps"] = float(f"{difference:.1e}")
    met = True
    print()
    checks = [("NumPy / floor", median["numpy"] / median["floor"], TARGET_FLOOR)]
    if torch is not None:
        checks.insert(0, ("NumPy / PyTorch", median["numpy"] / median["torch"], TARGET_TORCH))
        per_round = [a / b for a, b in zip(times["numpy"], times["torch"])]
        print(f"NumPy / PyTorch per round: {', '.join(f'{r:.2f}' for r in per_round)}")
    per_round = [a / b for a, b in zip(times["numpy"], times["floor"])]
    print(f"NumPy / floor per round:   {', '.join(f'{r:.2f}' for r in per_round)}")
    best = {who: min(t) for who, t in times.items()}
    print("ratios of the fastest epochs (less sensitive to a busy machine): "
          + (f"NumPy / PyTorch {best['numpy'] / best['torch']:.2f}, " if torch else "")
          + f"NumPy / floor {best['numpy'] / best['floor']:.2f}")
    for name, ratio, target in checks:
        ok = ratio <= target
        met &= ok
        print(f"{name:16} {ratio:5.2f}  target <= {target}  {'ok' if ok else 'MISSED'}")
    if torch is None:
        print("NumPy / PyTorch  skipped: PyTorch is not installed")
    print("\nall targets met" if met else "\nsome targets missed (see MISSED above)")
    print("(the targets proper: NumPy / PyTorch at the default threads, NumPy / floor at one)")
    return result


# ---------------------------------------------------------------- the results file (--write)

RESULT = "RESULT "      # the line a child run (--json) ends with


def write_results(path, runs, note):
    """Both runs (default threads, one thread) and the targets, as a TOML file (tomllib reads
    it; chapter 10 quotes it)."""
    default, one = runs["default_threads"], runs["one_thread"]
    targets = {
        "numpy_over_torch_default_threads": TARGET_TORCH,
        "numpy_over_torch_default_threads_measured": default["numpy_over_torch"],
        "numpy_over_torch_default_threads_met":
            default["numpy_over_torch"] <= TARGET_TORCH,
        "numpy_over_floor_one_thread": TARGET_FLOOR,
        "numpy_over_floor_one_thread_measured": one["numpy_over_floor"],
        "numpy_over_floor_one_thread_met": one["numpy_over_floor"] <= TARGET_FLOOR,
    }
    comments = [
        "# One MNIST training epoch (784-256-128-10, float32, batch 128): this book's NumPy",
        "# network, the same network in PyTorch (CPU), and the epoch's matrix products alone.",
        "# Written by `python bench/mnist_epoch.py --write PATH`, in TOML syntax (Python's",
        "# tomllib reads it). Times are medians over the rounds, in seconds; ratios are ratios",
        "# of medians. Chapter 10 (section 10.6) quotes this file.",
    ]
    lines = results_head(comments, note) + ["[targets]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in targets.items()]
    for name in ("default_threads", "one_thread"):
        lines += ["", f"[{name}]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in runs[name].items()]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n")


def run_both(args):
    """Run this script twice, at the default threads and with --threads 1 (the thread count
    must be set before NumPy loads), echoing each run, and collect their figures."""
    runs = {}
    for name, extra in (("default_threads", []), ("one_thread", ["--threads", "1"])):
        print(f"\n==== {name.replace('_', ' ')} ====", flush=True)
        command = [sys.executable, __file__, "--rounds", str(args.rounds),
                   "--batch", str(args.batch), "--json", *extra]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
            for line in child.stdout:
                if line.startswith(RESULT):
                    runs[name] = json.loads(line[len(RESULT):])
                else:
                    print(line, end="", flush=True)
        if child.returncode:
            sys.exit(f"the {name.replace('_', ' ')} run failed")
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: theirs, all cores)")
    parser.add_argument("--write", metavar="PATH", default=None,
                        help="run at the default threads and at one thread, and write both "
                             "runs' figures and the targets to PATH "
                             "(bench/results/mnist_epoch.txt)")
    parser.add_argument("--note", default="",
                        help="with --write: a remark for the file's header (e.g. the machine "
                             "was busy)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        if torch is None:
            sys.exit("--write needs PyTorch (chapter 10 quotes its figures): pip install torch")
        runs = run_both(args)
        write_results(args.write, runs, args.note)
        print(f"\nwritten: {args.write}")
        return
    result = measure(args)
    if args.json:
        print(RESULT + json.dumps(result))


if __name__ == "__main__":
    main()
