"""README's API table names only things that exist: every module and every name in it is imported."""

import importlib
import re
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
