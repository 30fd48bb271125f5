"""tinyrec installed as a user installs it: a wheel, a fresh virtual environment, another working folder.

The wheel is built from a copy of only what a wheel is made of (setup.cfg, pyproject.toml, README, LICENSE,
tinyrec/), so nothing can leak in from the clone: the bundled data must travel inside the package. The
fresh environment also holds a decoy package called ``datasets`` (Hugging Face's has that name), which
tinyrec once mistook for its data folder. With HOME pointing at an empty folder, the test loads every
bundled dataset, runs README's code blocks and the command-line demos, and then checks that nothing was
written anywhere but the data home and the one file README's example saves.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from movielens_fixture import write_ml100k

REPO = Path(__file__).resolve().parents[1]
WHEEL_SOURCES = ["setup.cfg", "pyproject.toml", "README.md", "LICENSE", "tinyrec"]

# Run inside the fresh environment: which files the loaders read, and what they hold.
CHECK_BUNDLED = """
import hashlib, json, sys, warnings
from pathlib import Path
warnings.simplefilter("error")          # a loader that falls back to generating would warn: fail instead
import tinyrec
from tinyrec.datasets import bundled, get_data_home
read = []
for name, reader in list(bundled._READERS.items()):
    bundled._READERS[name] = lambda folder, gen, reader=reader: read.append(str(folder)) or reader(folder, gen)
for name in bundled.DATASET_FILES:
    getattr(bundled, "load_" + name)()
package = Path(tinyrec.__file__).parent
digests = {f"{n}/{f}": hashlib.sha256((package / "datasets" / "data" / n / f).read_bytes()).hexdigest()
           for n, files in bundled.DATASET_FILES.items() for f in files}
print(json.dumps({"package": str(package), "read": read, "digests": digests, "data_home": str(get_data_home()),
                  "decoy_imported": "datasets" in sys.modules}))
"""


def run(command, **kwargs):
    proc = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=900, **kwargs)
    assert proc.returncode == 0, f"{command} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def snapshot(folder):
    """``{relative path: (size, mtime)}`` of every file and folder under ``folder``."""
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        stat = path.lstat()
        out[str(path.relative_to(folder))] = (stat.st_size if path.is_file() else 0, stat.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A fresh environment with the wheel installed; the folders it will be used from; their snapshots."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in WHEEL_SOURCES:
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy2)(
            REPO / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                        if (REPO / name).is_dir() else {}))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", root / "dist", src])
    (wheel,) = (root / "dist").glob("tinyrec-*.whl")

    venv = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet"]
    # PyTorch (for README's interop example) goes in uncompiled: compiling its .pyc files would double the
    # install time. So the runs below set PYTHONDONTWRITEBYTECODE and do not write .pyc files either.
    torch_pin = re.search(r"^\s*(torch==[\d.]+)", (REPO / "setup.cfg").read_text(), re.M).group(1)
    run(install + ["--no-compile", torch_pin])
    run(install + [f"{wheel}[interop]"])
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    decoy = site / "datasets"
    decoy.mkdir()
    (decoy / "__init__.py").write_text('raise ImportError("the decoy datasets package was imported")\n')

    home, work = root / "home", root / "work"
    work.mkdir()
    write_ml100k(home / "tinyrec_data")  # the default data home, which the ml-100k demo must read
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TINYREC_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
    before = {"venv": snapshot(venv), "home": snapshot(home), "work": snapshot(work)}
    return {"python": python, "site": site, "venv": venv, "home": home, "work": work, "env": env,
            "before": before, "outputs": {}}


def in_fresh(fresh, *args):
    output = run([fresh["python"], *args], cwd=fresh["work"], env=fresh["env"])
    fresh["outputs"][" ".join(map(str, args))[:60]] = output
    return output


def test_installed_loaders_read_the_committed_files(fresh):
    report = json.loads(in_fresh(fresh, "-c", CHECK_BUNDLED).strip().splitlines()[-1])
    package = Path(report["package"])
    assert package == fresh["site"] / "tinyrec"  # the installed copy, not the clone
    assert report["read"] == [str(package / "datasets" / "data" / n)
                              for n in ("movies", "products", "music", "ads", "sessions")]
    committed = {key: hashlib.sha256((REPO / "tinyrec" / "datasets" / "data" / key).read_bytes()).hexdigest()
                 for key in report["digests"]}
    assert report["digests"] == committed
    assert report["data_home"] == str(fresh["home"] / "tinyrec_data")
    assert not report["decoy_imported"]


def test_readme_blocks_run_from_the_wheel(fresh):
    output = in_fresh(fresh, REPO / "tests" / "run_readme_blocks.py", REPO / "README.md")
    assert output.count("=== README block") == output.count("took") >= 5


@pytest.mark.parametrize("argv, expect", [
    (["--help"], "python -m tinyrec demo --model neumf"),
    (["demo", "--verbose", "0"], "matrix factorisation (tinyrec)"),
    (["demo", "--model", "neumf", "--epochs", "2", "--verbose", "2"], "Early stopping: not triggered"),
    (["clicks", "--epochs", "1", "--verbose", "0"], "tinyrec Sequential (the article's model)"),
    (["demo", "--dataset", "ml-100k", "--verbose", "0"], "MovieLens 100K: 4,000 ratings, 80 users, 120 items"),
])
def test_command_line_from_the_wheel(fresh, argv, expect):
    assert expect in in_fresh(fresh, "-m", "tinyrec", *argv)


def test_nothing_was_written_outside_the_data_home(fresh):
    """Runs last in this module (pytest keeps file order): compares every folder with its first snapshot."""
    assert len(fresh["outputs"]) >= 7, "run the whole module: the other tests do the writing this one checks"
    after = {"venv": snapshot(fresh["venv"]), "home": snapshot(fresh["home"]), "work": snapshot(fresh["work"])}
    assert after["venv"] == fresh["before"]["venv"]  # site-packages untouched: no data written beside the decoy
    assert after["home"] == fresh["before"]["home"]  # the data home was read, not written; nothing else made
    assert set(after["work"]) == {"mf.tinyrec"}      # the one file README's example saves, by name
