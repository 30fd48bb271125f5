"""Every chapter notebook runs top to bottom on the bundled data (its self-check cells assert)."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the test extra installs nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_the_course_has_chapters():
    assert len(NOTEBOOKS) >= 1, "no chapter notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path):
    nb = nbformat.read(path, as_version=4)
    # Each chapter runs in well under a minute (notebooks/README.md lists the times); the per-cell timeout
    # only stops a runaway cell, it is not a speed test.
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, if any cell fails


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code and all(c.get("execution_count") for c in code), f"{path.name}: run it and save it with outputs"
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for c in code for o in c.get("outputs", [])), f"{path.name}: every chapter has at least one plot"
    assert any("assert" in c.source for c in code), f"{path.name}: every chapter has a self-check cell"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "<details>" in text, f"{path.name}: exercises with hidden solutions"
