"""Tests for tinyrec.datasets.bundled: the committed files are reproducible, documented and loadable."""

import gzip
import hashlib
import os
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from tinyrec.datasets import bundled
from tinyrec.datasets.base import BUNDLED_DATA
from tinyrec.datasets.bundled import (
    DATASET_FILES,
    load_ads,
    load_movies,
    load_music,
    load_products,
    load_sessions,
    write_bundled,
)
from tinyrec.datasets.sessions import make_sessions
from tinyrec.datasets.synthetic import make_ads, make_movies, make_music, make_products

ALL_FILES = [f"{name}/{f}" for name, files in DATASET_FILES.items() for f in files]
LOADERS = {"movies": (load_movies, make_movies), "products": (load_products, make_products),
           "music": (load_music, make_music), "ads": (load_ads, make_ads),
           "sessions": (load_sessions, make_sessions)}

REPO_INDEX = Path(__file__).resolve().parents[1] / "datasets" / "README.md"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    root = tmp_path_factory.mktemp("bundled")
    digests = write_bundled(root)
    return root, digests


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def assert_same(a, b, where="data"):
    """Recursively equal: same keys in the same order, same list items, same array dtypes and values."""
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{k}]")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b, where


# ------------------------------------------------------------------------------------------------ writing


def test_write_returns_the_sha256_of_every_file(regenerated):
    root, digests = regenerated
    assert sorted(digests) == sorted(ALL_FILES)
    for path, digest in digests.items():
        assert sha256((root / path).read_bytes()) == digest


def test_writing_twice_gives_the_same_bytes(regenerated, tmp_path):
    root, digests = regenerated
    again = write_bundled(tmp_path, names=["products"])
    assert again == {k: v for k, v in digests.items() if k.startswith("products/")}


def test_files_are_csv_with_integer_columns(regenerated):
    root, _ = regenerated
    text = gzip.decompress((root / "movies/ratings.csv.gz").read_bytes()).decode()
    lines = text.splitlines()
    assert lines[0] == "user_id,item_id,rating,timestamp" and len(lines) == 100_001
    assert all(re.fullmatch(r"\d+,\d+,[1-5],\d{9}", line) for line in lines[1:50])
    header = gzip.decompress((root / "ads/clicks.csv.gz").read_bytes()).decode().split("\n", 1)[0].split(",")
    assert len(header) == 105 and header[-5:] == ["device", "ad_position", "hour_bucket", "ad_category", "click"]


def test_gzip_headers_are_reproducible(regenerated):
    root, _ = regenerated
    data = (root / "movies/ratings.csv.gz").read_bytes()
    assert data[:2] == b"\x1f\x8b"
    assert data[4:8] == b"\x00\x00\x00\x00"  # mtime = 0
    assert data[10:22] == b"ratings.csv\x00"  # the stored file name, not the temporary file's


def test_no_temporary_files_are_left(regenerated):
    root, _ = regenerated
    leftovers = [p.name for p in root.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "data.csv"
    target.write_bytes(b"old\n")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        bundled._write(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]


def test_datasheet_checksum_table_is_refreshed(tmp_path):
    readme = tmp_path / "products" / "README.md"
    readme.parent.mkdir()
    readme.write_text(f"# Sheet\n\n{bundled.CHECKSUM_BEGIN}\nstale\n{bundled.CHECKSUM_END}\n\nafter\n")
    digests = write_bundled(tmp_path, names=["products"])
    text = readme.read_text()
    assert "stale" not in text and text.startswith("# Sheet\n") and text.endswith("\nafter\n")
    for path, digest in digests.items():
        assert f"`{path.split('/')[1]}`" in text and digest in text


def test_datasheet_without_markers_is_an_error(tmp_path):
    (tmp_path / "ads").mkdir()
    (tmp_path / "ads" / "README.md").write_text("# no markers\n")
    with pytest.raises(ValueError, match="checksum markers"):
        write_bundled(tmp_path, names=["ads"])


def test_unknown_dataset_name_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset names"):
        write_bundled(tmp_path, names=["movies", "books"])


# ------------------------------------------------------------------------------------------------ committed


@pytest.mark.parametrize("path", ALL_FILES)
def test_committed_file_content_is_reproduced(regenerated, path):
    root, _ = regenerated
    new, old = (root / path).read_bytes(), (BUNDLED_DATA / path).read_bytes()
    if path.endswith(".gz"):  # compare the CSV inside; the compressed bytes are checked below
        new, old = gzip.decompress(new), gzip.decompress(old)
    assert new == old


@pytest.mark.skipif("ng" in zlib.ZLIB_RUNTIME_VERSION.lower(),
                    reason="zlib-ng compresses to different (equally valid) bytes")
@pytest.mark.parametrize("path", [p for p in ALL_FILES if p.endswith(".gz")])
def test_committed_gzip_bytes_are_reproduced(regenerated, path):
    root, _ = regenerated
    assert (root / path).read_bytes() == (BUNDLED_DATA / path).read_bytes()


@pytest.mark.parametrize("name", list(DATASET_FILES))
def test_datasheet_checksums_match_the_committed_files(name):
    text = (BUNDLED_DATA / name / "README.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `([^`]+)`(?: \(inside the gzip\))? \| \d+ \| `([0-9a-f]{64})` \|$", text, re.M))
    for filename in DATASET_FILES[name]:
        data = (BUNDLED_DATA / name / filename).read_bytes()
        assert table[filename] == sha256(data), filename
        if filename.endswith(".gz"):
            assert table[filename[:-3]] == sha256(gzip.decompress(data)), filename[:-3]


def test_index_lists_every_dataset():
    """datasets/README.md, the place the design card names, links every datasheet inside the package."""
    text = REPO_INDEX.read_text(encoding="utf-8")
    for name in DATASET_FILES:
        assert f"(../tinyrec/datasets/data/{name}/README.md)" in text
        assert (REPO_INDEX.parent / f"../tinyrec/datasets/data/{name}/README.md").is_file()
    assert "load_movielens" in text


# ------------------------------------------------------------------------------------------------ loading


@pytest.mark.parametrize("name", list(LOADERS))
def test_loader_reads_the_files_and_matches_the_generator(name, monkeypatch):
    load, make = LOADERS[name]
    read = []
    original = bundled._READERS[name]
    monkeypatch.setitem(bundled._READERS, name, lambda folder, gen: read.append(folder) or original(folder, gen))
    assert_same(load(), make(), name)
    assert read == [BUNDLED_DATA / name]  # the committed files were really read


def test_loader_with_a_root_that_lacks_the_files_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_products: .*lacks \['purchases.csv', 'items.csv'\]"):
        load_products(root=tmp_path)


def test_loader_warns_and_generates_when_the_packaged_files_are_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(bundled.base, "BUNDLED_DATA", tmp_path)  # as if the install had lost them
    with pytest.warns(UserWarning, match=r"load_products: the bundled files .* are missing"):
        data = load_products()
    assert_same(data, make_products(), "products")


def test_loader_returns_copies():
    first = load_products()
    first.user_ids[:] = -1
    first.truth.item_bias[:] = 0.0
    first.category_names.append("Junk")
    second = load_products()
    assert second.user_ids.min() == 0 and second.truth.item_bias.std() > 0
    assert "Junk" not in second.category_names


def test_loader_reads_files_written_elsewhere(regenerated):
    root, _ = regenerated
    assert_same(load_music(root=root), make_music(), "music")


def test_loader_warns_when_files_disagree_with_the_generator(regenerated, tmp_path):
    root, _ = regenerated
    folder = tmp_path / "products"
    folder.mkdir()
    (folder / "items.csv").write_bytes((root / "products/items.csv").read_bytes())
    lines = (root / "products/purchases.csv").read_text().splitlines()
    lines[1] = "0,1,1500000000"  # an edited row
    (folder / "purchases.csv").write_text("\n".join(lines) + "\n")
    with pytest.warns(UserWarning, match="differ from make_products"):
        data = load_products(root=tmp_path)
    assert_same(data, make_products(), "products")  # falls back to the data that matches .truth


def test_loader_rejects_a_file_with_the_wrong_columns(regenerated, tmp_path):
    root, _ = regenerated
    folder = tmp_path / "music"
    folder.mkdir()
    (folder / "tracks.csv").write_bytes((root / "music/tracks.csv").read_bytes())
    (folder / "plays.csv").write_text("user,item,plays,time\n0,1,2,3\n")
    with pytest.raises(ValueError, match="expected the columns"):
        load_music(root=tmp_path)


def test_loader_rejects_an_unknown_category(regenerated, tmp_path):
    root, _ = regenerated
    folder = tmp_path / "products"
    folder.mkdir()
    (folder / "purchases.csv").write_bytes((root / "products/purchases.csv").read_bytes())
    (folder / "items.csv").write_text((root / "products/items.csv").read_text().replace("Grocery", "Food"))
    with pytest.raises(ValueError, match="unknown category 'Food'"):
        load_products(root=tmp_path)
