"""Tests for tinyrec.saving and tinyrec._atomic: whole models and weights round-trip exactly, bad files are
refused before any data is read, and writes are atomic (nothing half-written, nothing left behind)."""

import io
import json
import os
import signal
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

from tinyrec._atomic import atomic_write
from tinyrec.layers import Activation, Dense, Dropout, Embedding
from tinyrec.models import Sequential, load_model
from tinyrec.recommenders import (
    BiasBaseline,
    FactorizationMachine,
    GlobalMean,
    MatrixFactorization,
    MostPopular,
    NeuMF,
)
from tinyrec.saving import SavedModelError

RNG = np.random.default_rng(0)
U, I = RNG.integers(0, 15, 400), RNG.integers(0, 25, 400)
R = RNG.integers(1, 6, 400).astype(float)


def seed_model(seed=0, input_dim=6):
    model = Sequential(seed=seed)
    model.add(Dense(8, activation="relu", input_dim=input_dim))
    model.add(Dropout(0.25))
    model.add(Dense(4))
    model.add(Activation("tanh"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy", "auc"])
    return model


def blobs(n=64, d=6):
    x = np.random.default_rng(1).normal(size=(n, d))
    return x, (x[:, 0] + x[:, 1] > 0).astype(float)


# -- whole models --------------------------------------------------------------------------------------
def _fitted_recommenders():
    fm_x = (RNG.random((120, 3)), np.c_[RNG.integers(0, 4, 120), RNG.integers(0, 5, 120)])
    fm_y = RNG.integers(0, 2, 120)
    return {
        "MatrixFactorization": lambda: MatrixFactorization(15, 25, n_factors=4).fit(U, I, R, epochs=3, verbose=0),
        "NeuMF": lambda: NeuMF(15, 25, n_factors=3, mlp_layers=(4, 2), seed=3).fit(
            U, I, epochs=2, early_stopping=False, verbose=0),
        "GlobalMean": lambda: GlobalMean(15, 25).fit(U, I, R),
        "BiasBaseline": lambda: BiasBaseline(15, 25).fit(U, I, R),
        "MostPopular": lambda: MostPopular(15, 25).fit(U, I),
        "FactorizationMachine": lambda: FactorizationMachine(3, [4, 5], n_factors=2, item_field=1).fit(
            fm_x, fm_y, epochs=2, verbose=0),
    }


@pytest.mark.parametrize("name", list(_fitted_recommenders()))
def test_every_recommender_round_trips_exactly(tmp_path, name):
    model = _fitted_recommenders()[name]()
    model.save(tmp_path / "m.tinyrec")
    loaded = load_model(tmp_path / "m.tinyrec")
    assert type(loaded) is type(model)
    if name == "FactorizationMachine":
        x = (RNG.random((9, 3)), np.c_[RNG.integers(0, 4, 9), RNG.integers(0, 5, 9)])
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
        for a, b in zip(loaded.recommend(x, k=3), model.recommend(x, k=3)):
            np.testing.assert_array_equal(a, b)
        return
    np.testing.assert_array_equal(loaded.predict(U, I), model.predict(U, I))
    users = np.arange(15)
    for exclude in (True, False):
        for a, b in zip(loaded.recommend(users, k=5, exclude_seen=exclude), model.recommend(users, k=5,
                                                                                         exclude_seen=exclude)):
            np.testing.assert_array_equal(a, b)


def test_mf_reloaded_keeps_the_global_mean_and_seen_items(tmp_path):
    # the bug this replaces: μ was not a weight, so a reloaded MF predicted ~3.5 stars too low
    model = MatrixFactorization(15, 25, n_factors=4).fit(U, I, R, epochs=2, verbose=0)
    model.save(tmp_path / "mf")
    loaded = load_model(tmp_path / "mf")
    assert loaded.global_mean == model.global_mean > 2
    assert loaded.rating_range == model.rating_range == (float(R.min()), float(R.max()))
    assert loaded.clip is model.clip is True
    np.testing.assert_array_equal(loaded.predict(U, I), model.predict(U, I))
    unclipped = MatrixFactorization(15, 25, n_factors=4, clip=False).fit(U, I, R, epochs=2, verbose=0)
    unclipped.save(tmp_path / "raw")
    assert load_model(tmp_path / "raw").clip is False
    assert loaded._seen is not None and np.array_equal(loaded._seen[1], model._seen[1])


def test_sequential_round_trip_keeps_architecture_compile_and_predictions(tmp_path):
    x, y = blobs()
    model = seed_model()
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "seq.tinyrec")
    loaded = load_model(tmp_path / "seq.tinyrec")
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.layers[1].rate == 0.25 and loaded.layers[0].activation.name == "relu"
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, y, return_dict=True) == model.evaluate(x, y, return_dict=True)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    loaded.fit(x, y, epochs=1, verbose=0)  # compiled: it can keep training


def test_sequential_with_an_embedding_round_trips(tmp_path):
    model = Sequential([Embedding(30, 4), Dense(1)], seed=0)
    ids = np.arange(30).reshape(-1, 1)
    before = model.predict(ids)
    model.save(tmp_path / "e")
    np.testing.assert_array_equal(load_model(tmp_path / "e").predict(ids), before)


def test_save_refuses_nan_weights(tmp_path):
    model = seed_model()
    model.layers[0].params["kernel"][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.save(tmp_path / "m")
    assert os.listdir(tmp_path) == []


def _rewrite(path, edit):
    """Copy the archive at ``path``, letting ``edit(name, data) -> data`` change members."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, edit(n, data))


def test_load_model_refuses_classes_outside_tinyrec(tmp_path):
    seed_model().save(tmp_path / "m")

    def evil(name, data):
        if name != "model.json":
            return data
        meta = json.loads(data)
        meta["architecture"]["class"] = "subprocess.Popen"
        return json.dumps(meta).encode()

    _rewrite(tmp_path / "m", evil)
    with pytest.raises(SavedModelError, match="not part of tinyrec"):
        load_model(tmp_path / "m")


def test_load_model_refuses_nan_and_wrong_shapes(tmp_path):
    seed_model().save(tmp_path / "m")
    nan_kernel = np.full((6, 8), np.nan, dtype=np.float32)

    def poison(name, data):
        if name != "weights/0.npy":
            return data
        buf = io.BytesIO()
        np.save(buf, nan_kernel)
        return buf.getvalue()

    _rewrite(tmp_path / "m", poison)
    with pytest.raises(SavedModelError, match="NaN"):
        load_model(tmp_path / "m")


def test_a_crafted_header_is_refused_before_its_data_is_read(tmp_path):
    # The header promises a 100,000,000-row kernel: it must be refused from the header alone, without
    # allocating (the old loader took 2 GiB for a crafted 2 MB file before refusing it).
    model = seed_model()
    model.save_weights(tmp_path / "w.npz")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (100_000_000, 8)})
    _rewrite(tmp_path / "w.npz", lambda n, d: header.getvalue() + b"\0" * 2_000_000 if n == "w0.npy" else d)
    tracemalloc.start()
    with pytest.raises(SavedModelError, match=r"shape \(100000000, 8\)"):
        model.load_weights(tmp_path / "w.npz")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 2**20, f"peak {peak / 2**20:.0f} MiB while refusing a crafted file"


# -- weights only ----------------------------------------------------------------------------------------
def test_weights_round_trip(tmp_path):
    x, y = blobs()
    model = seed_model()
    model.fit(x, y, epochs=1, verbose=0)
    path = model.save_weights(tmp_path / "model")
    assert path.name == "model.npz" and sorted(os.listdir(tmp_path)) == ["model.npz"]
    other = seed_model(seed=99)
    other.load_weights(tmp_path / "model.npz")
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), other.get_weights()))
    np.testing.assert_array_equal(model.predict(x), other.predict(x))
    with np.load(path, allow_pickle=False) as data:  # a plain .npz, no pickled objects
        assert "weights.json" in data.files and "w0" in data.files


def test_load_weights_errors(tmp_path):
    model = seed_model()
    with pytest.raises(FileNotFoundError, match="no file at"):
        model.load_weights(tmp_path / "missing.npz")
    (tmp_path / "corrupt.npz").write_bytes(b"this is not a zip file")
    with pytest.raises(SavedModelError, match="not a tinyrec file"):
        model.load_weights(tmp_path / "corrupt.npz")
    np.save(tmp_path / "array.npy", np.zeros(3))
    os.replace(tmp_path / "array.npy", tmp_path / "renamed.npz")
    with pytest.raises(SavedModelError, match="not a zip archive"):
        model.load_weights(tmp_path / "renamed.npz")
    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))
    with pytest.raises(SavedModelError, match="tinyrec-weights"):
        model.load_weights(tmp_path / "foreign.npz")
    seed_model(input_dim=12).save_weights(tmp_path / "wide.npz")
    with pytest.raises(SavedModelError, match="different architecture"):
        model.load_weights(tmp_path / "wide.npz")
    before = model.get_weights()
    nan_model = seed_model(seed=5)
    nan_model.layers[-1].params["bias"][:] = np.nan
    nan_model.save_weights(tmp_path / "nan.npz")
    with pytest.raises(SavedModelError, match="NaN"):
        model.load_weights(tmp_path / "nan.npz")
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "a refused file changed weights"


# -- atomic writes ---------------------------------------------------------------------------------------
def test_save_failure_leaves_no_file(tmp_path, monkeypatch):
    model = seed_model()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save_weights(tmp_path / "w.npz")
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp_path / "m.tinyrec")
    assert os.listdir(tmp_path) == []


def test_a_failed_overwrite_keeps_the_old_file(tmp_path):
    target = tmp_path / "f.bin"
    atomic_write(target, lambda f: f.write(b"old"))
    with pytest.raises(RuntimeError):
        atomic_write(target, lambda f: (f.write(b"half"), (_ for _ in ()).throw(RuntimeError("boom"))))
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_respect_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = seed_model().save(tmp_path / "m.tinyrec")
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == mode


@pytest.mark.skipif(sys.platform != "linux", reason="SIGKILL mid-write is checked on Linux")
def test_a_killed_save_leaves_nothing_behind(tmp_path):
    # A child process starts writing, says so, and hangs; we kill -9 it mid-write. No *.part, no file.
    code = (
        "import sys, time\n"
        "from tinyrec._atomic import atomic_write\n"
        "def write(f):\n"
        "    f.write(b'x' * 1_000_000); f.flush(); print('writing', flush=True); time.sleep(60)\n"
        f"atomic_write({str(tmp_path / 'big.bin')!r}, write)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert os.listdir(tmp_path) == []
