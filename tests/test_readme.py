"""README says only what is true: its API table names things that exist (every one is imported), its code
blocks run as printed (tests/run_readme_blocks.py), and the numbers it quotes are the ones the demos print."""

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _api_rows():
    text = README.read_text(encoding="utf-8")
    section = text.split("## The public API", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`tinyrec"):
            rows.append((cells[0].strip("`"), cells[1]))
    return rows


def _names(cell):
    """The identifiers a cell names: backticked words, skipping argument spellings (``from_logits=``),
    strings (``"als"``), commands (``pip install ...``) and patterns (``make_*``)."""
    out = []
    for span in re.findall(r"`([^`]+)`", cell):
        if "=" in span or " " in span or "*" in span or span.startswith(("'", '"')):
            continue
        out.append(re.match(r"[A-Za-z_]\w*", span).group(0))
    return out


ROWS = _api_rows()


def test_the_table_lists_every_public_module():
    listed = {module for module, _ in ROWS}
    package = Path(importlib.import_module("tinyrec").__file__).parent
    modules = {f"tinyrec.{p.stem}" for p in package.glob("*.py") if not p.stem.startswith("_")}
    modules |= {f"tinyrec.{p.name}" for p in package.iterdir() if (p / "__init__.py").exists()}
    assert modules <= listed, f"README's API table misses {sorted(modules - listed)}"


@pytest.mark.parametrize("module, cell", ROWS, ids=[m for m, _ in ROWS])
def test_every_listed_name_exists(module, cell):
    if module == "tinyrec.interop":
        pytest.importorskip("torch", reason="tinyrec.interop needs the optional PyTorch extra")
    mod = importlib.import_module(module)
    names = _names(cell)
    assert names, f"no names parsed for {module}"
    missing = [n for n in names if not hasattr(mod, n)]
    dotted = re.findall(r"`([A-Z]\w*)\.(\w+)`", cell)  # methods such as `Model.fit`
    missing += [f"{c}.{m}" for c, m in dotted if not hasattr(getattr(mod, c, None), m)]
    assert not missing, f"{module} has no {missing}"


# ------------------------------------------------------------------ README's code blocks, run as a reader would
RUNNER = Path(__file__).with_name("run_readme_blocks.py")
MARKER = re.compile(r"^=== README block (\d+) \(line (\d+)\) ===$", re.M)
NUMBER = re.compile(r"\d+\.\d+")


def _blocks_output(stdout):
    """``{block number: what it printed}`` from the runner's output."""
    parts = MARKER.split(stdout)[1:]  # number, line, text, number, line, text, ...
    return {int(parts[k]): parts[k + 2] for k in range(0, len(parts), 3)}


def _fenced(language):
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory):
    """Every ```python block of README, in order, in one fresh interpreter, in an empty folder."""
    pytest.importorskip("torch", reason="README's save block carries a model to PyTorch (the interop extra)")
    cwd = tmp_path_factory.mktemp("readme")
    proc = subprocess.run([sys.executable, str(RUNNER), str(README)], cwd=cwd, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, f"a README block failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return cwd, _blocks_output(proc.stdout)


def _block_printing(outputs, source_text):
    """The output of the README block whose source contains ``source_text``."""
    sources = _fenced("python")
    number = next(k for k, src in enumerate(sources, 1) if source_text in src)
    return outputs[number]


def test_every_python_block_runs(readme_run):
    _, outputs = readme_run
    assert len(outputs) == len(_fenced("python")) >= 5
    assert all("took" in text for text in outputs.values())


def test_the_articles_example_trains_ten_epochs(readme_run):
    text = _block_printing(readme_run[1], "model.add(Dense(units=64")
    assert [int(n) for n in re.findall(r"^Epoch (\d+)/10 ", text, re.M)] == list(range(1, 11))


def test_recommender_block_prints_the_rmse_the_table_quotes(readme_run):
    text = _block_printing(readme_run[1], "MatrixFactorization(data.n_users")
    printed = float(re.search(r"^(\d\.\d+)$", text, re.M).group(1))  # the line print(rmse(...)) wrote
    row = _table_row("`python -m tinyrec demo`")
    assert f"MF **{printed:.3f}**" in row, (printed, row)


def test_gradient_check_block_prints_an_error_below_the_bar(readme_run):
    text = _block_printing(readme_run[1], "class Square(Layer)")
    errors = ast.literal_eval(text.strip().splitlines()[0])
    assert set(errors) == {"input"} and 0 <= errors["input"] < 1e-7


def test_save_block_writes_only_the_file_it_names(readme_run):
    cwd, outputs = readme_run
    assert sorted(p.name for p in cwd.iterdir()) == ["mf.tinyrec"]


def test_sequences_block_prints_what_the_text_says(readme_run):
    text = _block_printing(readme_run[1], "SessionGRU(d.n_items)")
    gru, markov = (ast.literal_eval(line) for line in text.splitlines() if line.startswith("{"))
    sentence = re.search(r"HR@10 (\d\.\d+) against (\d\.\d+)", README.read_text(encoding="utf-8"))
    assert (f"{gru['hit_rate']:.3f}", f"{markov['hit_rate']:.3f}") == sentence.groups()


# ------------------------------------------------------------------ shell blocks and the numbers README quotes
def _table_row(command):
    """The line of README's "What to expect" table that names ``command``."""
    return next(line for line in README.read_text(encoding="utf-8").splitlines()
                if line.startswith("|") and command in line)


def _demo_numbers(argv, capsys):
    from tinyrec.__main__ import main
    assert main(argv) == 0
    return capsys.readouterr().out


def _close(printed, quoted):
    """Each quoted (3-decimal) number is the printed (4-decimal) one, rounded."""
    return len(printed) == len(quoted) and all(abs(p - q) <= 5.001e-4 for p, q in zip(printed, quoted))


def test_shell_blocks_hold_only_known_commands():
    """Each command of README's ```bash blocks is one this file checks (or another test runs)."""
    extras = re.search(r"\[options\.extras_require\]\n(.*?)\n\[", (README.parent / "setup.cfg").read_text(), re.S)
    defined = set(re.findall(r"^(\w+) =", extras.group(1), re.M))
    for block in _fenced("bash"):
        for command in (c.strip() for line in block.splitlines() for c in line.split("&&")):
            if command.startswith("pip install -e "):
                extra = re.fullmatch(r'pip install -e "\.\[(\w+)\]"', command).group(1)
                assert extra in defined, f"README installs the extra {extra!r}, which setup.cfg lacks"
            elif command == "pytest":
                pass  # this very run
            elif command == "python docs/build.py":
                assert (README.parent / "docs" / "build.py").is_file()  # built and checked by test_site.py
            elif command == "python -m tinyrec demo":
                pass  # run, and its numbers compared with README's table, just below
            else:
                pytest.fail(f"README runs {command!r}: teach tests/test_readme.py to check it")


def test_demo_prints_the_numbers_readme_quotes(capsys):
    out = _demo_numbers(["demo", "--verbose", "0"], capsys)
    printed = [float(re.search(rf"^{label}\s+(\d\.\d+)", out, re.M).group(1))
               for label in ("global mean", r"user \+ item biases", r"matrix factorisation \(tinyrec\)")]
    row = _table_row("`python -m tinyrec demo`").split("|")
    quoted = [float(x) for x in NUMBER.findall(row[2] + row[3])]
    assert _close(printed, quoted), (printed, quoted)


def test_neumf_demo_prints_the_numbers_readme_quotes(capsys):
    out = _demo_numbers(["demo", "--model", "neumf", "--verbose", "0"], capsys)
    printed = [float(x) for label in ("most popular", r"NeuMF \(tinyrec\)")
               for x in re.search(rf"^{label}\s+(\d\.\d+)\s+(\d\.\d+)", out, re.M).groups()]
    row = _table_row("`python -m tinyrec demo --model neumf`").split("|")
    quoted = [float(x) for x in NUMBER.findall(row[2] + row[3])]
    assert _close(printed, quoted), (printed, quoted)
    assert "NeuMF beats popularity here" in out  # the demo's verdict agrees with the table


def test_clicks_prints_the_numbers_readme_quotes(capsys):
    out = _demo_numbers(["clicks", "--verbose", "0"], capsys)
    printed = [float(re.search(rf"^{label}.*?(\d\.\d+)\s*$", out, re.M).group(1))
               for label in ("always predict the majority class", "tinyrec Sequential", "best possible")]
    row = _table_row("`python -m tinyrec clicks`").split("|")
    quoted = [float(x) for x in NUMBER.findall(row[2] + row[3] + row[4])]
    assert _close(printed, quoted), (printed, quoted)
