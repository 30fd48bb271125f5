"""Tests for tinyrec.datasets.movielens.

No network: tiny fixtures in the real file formats are written to tmp_path.
"""

import dataclasses
import hashlib
import io
import os
import urllib.error
import urllib.request
import zipfile

import numpy as np
import pytest

from tinyrec.datasets import get_data_home, movielens
from tinyrec.datasets.movielens import DatasetChecksumError, DatasetNotFoundError, load_movielens

# The 19 genres of ML-100K u.item, in column order (from the ML-100K README / u.genre).
GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
]  # fmt: skip

# ---- ML-100K fixture: users 10, 20, 30; movies 1, 2, 3, 5 (no id 4), listed out of order in u.item
U_DATA = (
    "10\t3\t4\t881250949\n"
    "30\t1\t5\t891717742\n"
    "20\t5\t1\t878887116\n"
    "10\t1\t3\t880606923\n"
    "30\t2\t2\t886397596\n"
)


def item_line_100k(movie_id, title, genres):
    flags = "|".join("1" if g in genres else "0" for g in GENRES)
    return f"{movie_id}|{title}|01-Jan-1995||http://us.imdb.com/M/title-exact?x|{flags}\n"


U_ITEM = (
    item_line_100k(1, "Toy Story (1995)", {"Animation", "Children's", "Comedy"})
    + item_line_100k(5, "Copycat (1995)", {"Crime", "Drama", "Thriller"})
    + item_line_100k(2, "GoldenEye (1995)", {"Action", "Adventure", "Thriller"})
    + item_line_100k(3, "Café au lait (1993)", {"unknown"})
)

# ---- ML-1M fixture: users 1, 2, 6040; movies 1, 2, 2324 (latin-1 titles)
RATINGS_DAT = "1::2324::5::978300760\n6040::1::3::956703932\n2::2::4::978298413\n1::1::1::978302109\n"
MOVIES_DAT = (
    "1::Toy Story (1995)::Animation|Children's|Comedy\n"
    "2::Jumanji (1995)::Adventure|Children's|Fantasy\n"
    "2324::Amélie (2001)::Comedy|Romance\n"
)


def write_folder(home, name, files):
    folder = home / name
    folder.mkdir(parents=True)
    for fname, text in files.items():
        (folder / fname).write_bytes(text.encode("latin-1"))
    return folder


def zip_bytes(name, files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{name}/README", "fixture")
        for fname, text in files.items():
            zf.writestr(f"{name}/{fname}", text.encode("latin-1"))
    return buf.getvalue()


FILES_100K = {"u.data": U_DATA, "u.item": U_ITEM}


def use_md5(monkeypatch, name, md5):
    """Make the fixture zip pass for the official one: its MD5 in the record, and no recorded size."""
    record = dataclasses.replace(movielens.DATASETS[name], md5=md5, size=None)
    monkeypatch.setitem(movielens.DATASETS, name, record)
FILES_1M = {"ratings.dat": RATINGS_DAT, "movies.dat": MOVIES_DAT}


def check_100k(data):
    """Expected values for the ML-100K fixture, worked out by hand."""
    np.testing.assert_array_equal(data.raw_user_ids, [10, 20, 30])
    np.testing.assert_array_equal(data.raw_item_ids, [1, 2, 3, 5])
    np.testing.assert_array_equal(data.user_ids, [0, 2, 1, 0, 2])
    np.testing.assert_array_equal(data.item_ids, [2, 0, 3, 0, 1])
    np.testing.assert_array_equal(data.ratings, [4, 5, 1, 3, 2])
    np.testing.assert_array_equal(data.timestamps, [881250949, 891717742, 878887116, 880606923, 886397596])
    assert data.user_ids.dtype == np.int64 and data.item_ids.dtype == np.int64
    assert data.ratings.dtype == np.float32 and data.timestamps.dtype == np.int64
    assert data.raw_user_ids.dtype == np.int64 and data.raw_item_ids.dtype == np.int64
    assert (data.n_users, data.n_items) == (3, 4)
    titles = ["Toy Story (1995)", "GoldenEye (1995)", "Café au lait (1993)", "Copycat (1995)"]  # by raw id
    assert data.item_titles == titles
    expected = np.zeros((4, 19), dtype=np.uint8)
    expected[0, [3, 4, 5]] = 1  # Animation, Children's, Comedy
    expected[1, [1, 2, 16]] = 1  # Action, Adventure, Thriller
    expected[2, 0] = 1  # unknown
    expected[3, [6, 8, 16]] = 1  # Crime, Drama, Thriller
    np.testing.assert_array_equal(data.item_genres, expected)
    assert data.item_genres.dtype == np.uint8
    assert data.genre_names == GENRES
    assert data.name == "ml-100k" and "MovieLens" in data.description
    assert set(data) == {
        "user_ids", "item_ids", "ratings", "timestamps", "n_users", "n_items", "item_titles", "item_genres",
        "genre_names", "raw_user_ids", "raw_item_ids", "name", "description",
    }  # fmt: skip


# ------------------------------------------------------------------------------------------ local files
def test_extracted_folder_100k(tmp_path):
    write_folder(tmp_path, "ml-100k", FILES_100K)
    check_100k(load_movielens("ml-100k", data_home=tmp_path, download=False))


def test_data_home_from_environment(tmp_path, monkeypatch):
    write_folder(tmp_path, "ml-100k", FILES_100K)
    monkeypatch.setenv("TINYREC_DATA", str(tmp_path))
    check_100k(load_movielens(download=False))


def test_extracted_folder_1m_latin1(tmp_path):
    write_folder(tmp_path, "ml-1m", FILES_1M)
    data = load_movielens("ml-1m", data_home=tmp_path, download=False)
    np.testing.assert_array_equal(data.raw_user_ids, [1, 2, 6040])
    np.testing.assert_array_equal(data.raw_item_ids, [1, 2, 2324])
    np.testing.assert_array_equal(data.user_ids, [0, 2, 1, 0])
    np.testing.assert_array_equal(data.item_ids, [2, 0, 1, 0])
    np.testing.assert_array_equal(data.ratings, [5, 3, 4, 1])
    np.testing.assert_array_equal(data.timestamps, [978300760, 956703932, 978298413, 978302109])
    assert data.item_titles == ["Toy Story (1995)", "Jumanji (1995)", "Amélie (2001)"]
    expected = np.zeros((3, 19), dtype=np.uint8)
    expected[0, [3, 4, 5]] = 1  # Animation, Children's, Comedy
    expected[1, [2, 4, 9]] = 1  # Adventure, Children's, Fantasy
    expected[2, [5, 14]] = 1  # Comedy, Romance
    np.testing.assert_array_equal(data.item_genres, expected)
    assert data.genre_names == GENRES and data.name == "ml-1m"


def test_zip_is_read_directly_and_md5_checked(tmp_path, monkeypatch):
    blob = zip_bytes("ml-100k", FILES_100K)
    (tmp_path / "ml-100k.zip").write_bytes(blob)
    use_md5(monkeypatch, "ml-100k", hashlib.md5(blob).hexdigest())
    check_100k(load_movielens("ml-100k", data_home=tmp_path, download=False))
    assert not (tmp_path / "ml-100k").exists()  # read from the zip, nothing extracted


def test_zip_1m(tmp_path, monkeypatch):
    blob = zip_bytes("ml-1m", FILES_1M)
    (tmp_path / "ml-1m.zip").write_bytes(blob)
    use_md5(monkeypatch, "ml-1m", hashlib.md5(blob).hexdigest())
    data = load_movielens("ml-1m", data_home=tmp_path, download=False)
    assert data.item_titles[2] == "Amélie (2001)" and data.n_users == 3


def test_zip_with_wrong_md5_is_refused(tmp_path):
    blob = zip_bytes("ml-100k", FILES_100K)  # not the official zip, so the real checksum cannot match
    zip_path = tmp_path / "ml-100k.zip"
    zip_path.write_bytes(blob)
    with pytest.raises(DatasetChecksumError) as info:
        load_movielens("ml-100k", data_home=tmp_path, download=False)
    message = str(info.value)
    assert str(zip_path) in message
    assert "0e33842e24a9c977be4e0107933c0723" in message and hashlib.md5(blob).hexdigest() in message
    assert zip_path.exists()  # the user's file is not deleted behind their back


def test_extracted_folder_wins_over_zip(tmp_path):
    write_folder(tmp_path, "ml-100k", FILES_100K)
    (tmp_path / "ml-100k.zip").write_bytes(b"not a zip")  # would fail the checksum if it were looked at
    check_100k(load_movielens("ml-100k", data_home=tmp_path, download=False))


def test_unknown_name(tmp_path):
    with pytest.raises(ValueError, match="ml-100k.*ml-1m"):
        load_movielens("ml-20m", data_home=tmp_path)


def test_nothing_found_and_download_false(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_movielens("ml-100k", data_home=tmp_path, download=False)
    assert isinstance(info.value, OSError)
    message = str(info.value)
    assert str(tmp_path / "ml-100k.zip") in message
    assert str(tmp_path / "ml-100k") in message
    assert "https://files.grouplens.org/datasets/movielens/ml-100k.zip" in message


# --------------------------------------------------------------------------------------------- download
class FakeResponse:
    """Stands in for urllib's HTTP response: headers, read(n) in small pieces, context manager."""

    def __init__(self, payload, content_length=None, fail_after=None, piece=100):
        self._stream = io.BytesIO(payload)
        self.headers = {"Content-Length": str(len(payload) if content_length is None else content_length)}
        self._fail_after, self._piece, self._sent = fail_after, piece, 0

    def read(self, n=-1):
        if self._fail_after is not None and self._sent >= self._fail_after:
            raise ConnectionResetError("connection reset by peer")
        chunk = self._stream.read(min(n, self._piece))
        self._sent += len(chunk)
        return chunk

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def fake_urlopen(response, calls):
    def urlopen(url, timeout=None):
        calls.append(url)
        return response

    return urlopen


def test_simulated_download_verifies_and_writes_atomically(tmp_path, monkeypatch, capsys):
    blob = zip_bytes("ml-100k", FILES_100K)
    use_md5(monkeypatch, "ml-100k", hashlib.md5(blob).hexdigest())
    calls, renames = [], []
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen(FakeResponse(blob), calls))
    real_replace = os.replace

    def spy_replace(src, dst):
        renames.append((os.fspath(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy_replace)
    data = load_movielens("ml-100k", data_home=tmp_path, verbose=True)
    check_100k(data)
    assert calls == ["https://files.grouplens.org/datasets/movielens/ml-100k.zip"]
    assert (tmp_path / "ml-100k.zip").read_bytes() == blob
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ml-100k.zip"]  # no temp file left
    # written to a temp file in the same folder, then renamed onto the final name
    assert len(renames) == 1
    src, dst = renames[0]
    # (tinyrec._atomic.atomic_write: an unnamed O_TMPFILE gets a hidden ".<name>.….part" name just before)
    assert os.path.dirname(src) == str(tmp_path) and os.path.basename(src).startswith(".ml-100k.zip.")
    assert src.endswith(".part")
    assert dst == str(tmp_path / "ml-100k.zip")
    err = capsys.readouterr().err
    assert f"{len(blob):,} / {len(blob):,} bytes" in err and "100%" in err


def test_failing_download_leaves_no_file(tmp_path, monkeypatch):
    blob = zip_bytes("ml-100k", FILES_100K)
    use_md5(monkeypatch, "ml-100k", hashlib.md5(blob).hexdigest())
    response = FakeResponse(blob, fail_after=200)  # dies mid-stream
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen(response, []))
    with pytest.raises(DatasetNotFoundError) as info:
        load_movielens("ml-100k", data_home=tmp_path, verbose=False)
    assert str(tmp_path / "ml-100k.zip") in str(info.value)
    assert isinstance(info.value.__cause__, ConnectionResetError)
    assert list(tmp_path.iterdir()) == []


def test_truncated_download_is_detected(tmp_path, monkeypatch):
    blob = zip_bytes("ml-100k", FILES_100K)
    response = FakeResponse(blob[:300], content_length=len(blob))  # server closes early
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen(response, []))
    with pytest.raises(DatasetNotFoundError, match="300"):
        load_movielens("ml-100k", data_home=tmp_path, verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_download_with_wrong_checksum_is_discarded(tmp_path, monkeypatch):
    blob = zip_bytes("ml-100k", FILES_100K)  # the table keeps the official MD5, so this cannot match
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen(FakeResponse(blob), []))
    with pytest.raises(DatasetChecksumError) as info:
        load_movielens("ml-100k", data_home=tmp_path, verbose=False)
    message = str(info.value)
    assert "0e33842e24a9c977be4e0107933c0723" in message and hashlib.md5(blob).hexdigest() in message
    assert "discarded" in message
    assert list(tmp_path.iterdir()) == []


def test_offline_gives_instructions(tmp_path, monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        load_movielens("ml-1m", data_home=tmp_path, verbose=False)
    message = str(info.value)
    assert "name resolution" in message
    assert str(tmp_path / "ml-1m.zip") in message
    assert "https://files.grouplens.org/datasets/movielens/ml-1m.zip" in message
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------- malformed input
@pytest.mark.parametrize(
    "bad_line, problem",
    [
        ("20\t2\t3\n", "expected 4 fields"),
        ("20\tx\t3\t881250949\n", "integers"),
        ("20\t2\t6\t881250949\n", "outside 1..5"),
        ("20\t2\t0\t881250949\n", "outside 1..5"),
    ],
)
def test_malformed_ratings_line_named(tmp_path, bad_line, problem):
    lines = U_DATA.splitlines(keepends=True)
    text = "".join(lines[:2] + [bad_line] + lines[2:])  # the bad line is line 3
    write_folder(tmp_path, "ml-100k", {"u.data": text, "u.item": U_ITEM})
    with pytest.raises(ValueError) as info:
        load_movielens("ml-100k", data_home=tmp_path, download=False)
    message = str(info.value)
    assert "u.data" in message and "line 3" in message and problem in message
    assert repr(bad_line.rstrip("\n")) in message


def test_malformed_1m_lines_named(tmp_path):
    bad_ratings = RATINGS_DAT + "2::1:5::978298413\n"  # line 5: a single ':' merges two fields
    write_folder(tmp_path, "ml-1m", {"ratings.dat": bad_ratings, "movies.dat": MOVIES_DAT})
    with pytest.raises(ValueError, match=r"ratings\.dat.*line 5"):
        load_movielens("ml-1m", data_home=tmp_path, download=False)

    home = tmp_path / "second"
    bad_movies = MOVIES_DAT.replace("2::Jumanji (1995)::", "two::Jumanji (1995)::")
    write_folder(home, "ml-1m", {"ratings.dat": RATINGS_DAT, "movies.dat": bad_movies})
    with pytest.raises(ValueError, match=r"movies\.dat.*line 2.*integer"):
        load_movielens("ml-1m", data_home=home, download=False)


def test_malformed_item_line_named(tmp_path):
    bad_item = U_ITEM + "7|Too short|01-Jan-1995\n"  # line 5
    write_folder(tmp_path, "ml-100k", {"u.data": U_DATA, "u.item": bad_item})
    with pytest.raises(ValueError, match=r"u\.item.*line 5.*24 fields"):
        load_movielens("ml-100k", data_home=tmp_path, download=False)


def test_rated_item_missing_from_item_file(tmp_path):
    write_folder(tmp_path, "ml-100k", {"u.data": U_DATA + "20\t99\t3\t881250949\n", "u.item": U_ITEM})
    with pytest.raises(ValueError, match=r"99"):
        load_movielens("ml-100k", data_home=tmp_path, download=False)


# ------------------------------------------------------------------------------------- data_home
def test_data_home_that_is_a_file(tmp_path):
    a_file = tmp_path / "not_a_folder"
    a_file.write_text("x")
    with pytest.raises(NotADirectoryError, match=r"get_data_home: data_home .*not_a_folder' is a file"):
        load_movielens("ml-100k", data_home=a_file, download=False)
    with pytest.raises(NotADirectoryError, match="get_data_home: cannot create the folder"):
        load_movielens("ml-100k", data_home=a_file / "below", download=False)
    with pytest.raises(TypeError, match="get_data_home: data_home must be a folder path"):
        load_movielens("ml-100k", data_home=3, download=False)


def test_download_and_verbose_must_be_bools(tmp_path):
    with pytest.raises(TypeError, match="load_movielens: download must be True or False"):
        load_movielens("ml-100k", data_home=tmp_path, download="no")


def test_one_record_per_dataset():
    for name, record in movielens.DATASETS.items():
        assert record.name == name and record.url.endswith(f"/{name}.zip") and len(record.md5) == 32
        assert record.encoding == "latin-1"


def test_recorded_size_catches_a_short_download_without_content_length(tmp_path, monkeypatch):
    blob = zip_bytes("ml-100k", FILES_100K)
    record = dataclasses.replace(movielens.DATASETS["ml-100k"], md5=hashlib.md5(blob).hexdigest(),
                                 size=len(blob) + 10)
    monkeypatch.setitem(movielens.DATASETS, "ml-100k", record)
    response = FakeResponse(blob)
    response.headers = {}  # the server sends no Content-Length
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen(response, []))
    with pytest.raises(DatasetNotFoundError, match=f"after {len(blob):,} of {len(blob) + 10:,} bytes"):
        load_movielens("ml-100k", data_home=tmp_path, verbose=False)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ the data home is made only to write
def test_default_data_home_is_in_the_home_folder_and_not_created_by_asking(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYREC_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == tmp_path / "tinyrec_data"
    with pytest.raises(DatasetNotFoundError):
        load_movielens("ml-100k", download=False)
    assert list(tmp_path.iterdir()) == []  # neither asking nor a failed lookup made the folder


def test_data_home_is_created_when_the_download_writes(tmp_path, monkeypatch):
    blob = zip_bytes("ml-100k", FILES_100K)
    use_md5(monkeypatch, "ml-100k", hashlib.md5(blob).hexdigest())
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen(FakeResponse(blob), []))
    home = tmp_path / "a" / "new" / "home"
    check_100k(load_movielens("ml-100k", data_home=home, verbose=False))
    assert sorted(p.name for p in home.iterdir()) == ["ml-100k.zip"]


def test_a_failed_download_removes_the_data_home_it_created(tmp_path, monkeypatch):
    blob = zip_bytes("ml-100k", FILES_100K)
    use_md5(monkeypatch, "ml-100k", hashlib.md5(blob).hexdigest())
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen(FakeResponse(blob, fail_after=300), []))
    with pytest.raises(DatasetNotFoundError, match="the download failed"):
        load_movielens("ml-100k", data_home=tmp_path / "fresh", verbose=False)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "kept").mkdir()  # a folder that was already there stays, empty
    with pytest.raises(DatasetNotFoundError):
        load_movielens("ml-100k", data_home=tmp_path / "kept", verbose=False)
    assert [p.name for p in tmp_path.iterdir()] == ["kept"] and list((tmp_path / "kept").iterdir()) == []


def test_missing_message_names_the_command_line_flag(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="--data-home FOLDER"):
        load_movielens("ml-100k", data_home=tmp_path, download=False)
