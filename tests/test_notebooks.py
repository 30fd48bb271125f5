"""Every chapter notebook runs top to bottom on the bundled data, and re-running it reproduces its committed
text outputs exactly, so a committed output can never go stale.

Each notebook is executed ONCE per test session; both the "executes" and the "reproduces its outputs" checks
read that one execution. The selected notebooks run two at a time in background threads (each thread drives
its own kernel process and event loop); ``TINYREC_NOTEBOOK_WORKERS=1`` runs them one after another.

Only text is compared: streams (stdout/stderr) and ``text/plain`` of results and displays. Image bytes are
not compared because PNG encoding differs between matplotlib versions; a figure's ``text/plain``
(``<Figure size 600x320 with 1 Axes>``) still is.
"""

import copy
import importlib.util
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the test extra installs nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# The only normalisation: a default repr such as "<Foo object at 0x7f3a...>" carries a memory address that
# changes on every run. Chapters should not print such reprs; this keeps one from failing the test spuriously.
_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")

# Kernels run with single-threaded BLAS. On a shared machine a multi-threaded BLAS oversubscribes the cores
# (we measured chapter 7's NeuMF epoch at 35 s instead of 1.3 s under load), and the summation order of a
# threaded matrix product can depend on the thread count, which would change the last digits of printed
# numbers from one machine to the next.
KERNEL_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

WORKERS = int(os.environ.get("TINYREC_NOTEBOOK_WORKERS", "2"))

# PyTorch is an optional extra (pip install -e ".[interop]"); README's test command does not install it. Cells
# that use it are tagged "needs-torch" and print a one-line "skipped" instead when it is missing, so their
# committed outputs (made with torch) cannot be reproduced then: their comparison is skipped, and only theirs.
# The kernel runs this same interpreter and environment, so what is importable here is importable there.
HAVE_TORCH = importlib.util.find_spec("torch") is not None


def _run(path):
    """Execute the notebook at ``path`` top to bottom in a fresh kernel.

    Returns ``(executed notebook, None)``, or ``(None, exception)`` if a cell failed (CellExecutionError
    names the cell and carries its traceback).
    """
    nb = nbformat.read(path, as_version=4)
    # The per-cell timeout only stops a runaway cell; it is not a speed test (chapters take seconds).
    client = nbclient.NotebookClient(copy.deepcopy(nb), timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    try:
        return client.execute(env=KERNEL_ENV), None
    except Exception as exc:
        return None, exc


@pytest.fixture(scope="module")
def executions(request):
    """path -> Future of ``_run(path)``, for the notebooks the selected tests need (``-k`` is honoured), in
    test order, started at once on a pool of WORKERS threads."""
    needed = []
    for item in request.session.items:
        path = getattr(item, "callspec", None) and item.callspec.params.get("path")
        if (path is not None and "executions" in getattr(item, "fixturenames", ()) and item.module is request.module
                and path not in needed):
            needed.append(path)
    with ThreadPoolExecutor(max_workers=max(1, WORKERS)) as pool:
        yield {path: pool.submit(_run, path) for path in needed}


def _text_outputs(cell):
    """The text a code cell showed, as a list of (kind, text): consecutive stream chunks of one stream are
    joined (how a kernel splits a print into messages is not part of the output); images are left out."""
    out = []
    for o in cell.get("outputs", []):
        kind = o.get("output_type")
        if kind == "stream":
            text = o.get("text", "")
            if out and out[-1][0] == o.get("name"):
                out[-1] = (out[-1][0], out[-1][1] + text)
            else:
                out.append((o.get("name"), text))
        elif kind in ("execute_result", "display_data"):
            text = o.get("data", {}).get("text/plain")
            if text is not None:
                out.append((kind, text if isinstance(text, str) else "".join(text)))
        elif kind == "error":
            out.append(("error", f"{o.get('ename')}: {o.get('evalue')}"))
    return [(k, _ADDRESS.sub("at 0x…", t)) for k, t in out]


def test_the_course_has_chapters():
    assert len(NOTEBOOKS) >= 1, "no chapter notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, executions):
    _, error = executions[path].result()
    if error is not None:
        raise error   # the cell that failed and its traceback


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_reproduces_its_committed_outputs(path, executions):
    executed, error = executions[path].result()
    if error is not None:
        pytest.fail(f"{path.name} did not run to the end (see test_notebook_executes): {type(error).__name__}")
    committed = nbformat.read(path, as_version=4)
    assert len(executed.cells) == len(committed.cells)
    stale = []
    for index, (old, new) in enumerate(zip(committed.cells, executed.cells)):
        if old.cell_type != "code":
            continue
        if not HAVE_TORCH and "needs-torch" in old.metadata.get("tags", []):
            continue  # committed with PyTorch's outputs; without torch the cell only prints that it skipped
        before, after = _text_outputs(old), _text_outputs(new)
        if before != after:
            stale.append(f"cell {index} (execution_count {old.get('execution_count')}):\n"
                         f"  committed: {before!r}\n  re-run:    {after!r}")
    assert not stale, (f"{path.name}: re-running changed the text outputs of {len(stale)} cell(s) — unseeded "
                       "randomness or a wall-clock time in the output, or the notebook was not re-executed "
                       "and saved after an edit:\n" + "\n".join(s[:2000] for s in stale))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code and all(c.get("execution_count") for c in code), f"{path.name}: run it and save it with outputs"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: executed top to bottom in one go, {counts}"
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for c in code for o in c.get("outputs", [])), f"{path.name}: every chapter has at least one plot"
    assert any("assert" in c.source for c in code), f"{path.name}: every chapter has a self-check cell"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "<details>" in text, f"{path.name}: exercises with hidden solutions"
