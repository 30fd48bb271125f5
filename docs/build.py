"""Build the course website (the "book") into docs/_build/html: ``python docs/build.py``.

What goes in, all read from the repository as committed:

* README.md → the front page; notebooks/README.md (the chapter map) → the course page;
* every ``notebooks/NN_*.ipynb`` → one chapter page each, from its STORED outputs (nothing is executed),
  with a "run it" line and a link to the notebook file;
* docs/glossary.md → the bilingual glossary page;
* an API reference with one page per public module, found by walking the ``tinyrec`` package
  (modules whose name starts with ``_`` are private and skipped), rendered from the docstrings.

The build stages those files into ``<builddir>/src`` (mirroring the repository, so relative links keep
working), copies MathJax out of the ``django-static-mathjax`` wheel into the site's ``_static`` so the site
works offline, then runs Sphinx with warnings as errors: a broken link or cross-reference fails the build.

Needs the ``docs`` extra: ``pip install -e ".[docs]"``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"


def chapters() -> list[Path]:
    """The course's notebooks in reading order (file names start with their two-digit number)."""
    return sorted((ROOT / "notebooks").glob(CHAPTER_GLOB))


def public_modules(package: str = "tinyrec") -> list[str]:
    """Every importable public module of ``package``, found by walking it (so new modules appear by
    themselves); a module is private when any part of its dotted name starts with ``_``."""
    sys.path.insert(0, str(ROOT))  # document this checkout's tinyrec, not some other installed copy
    try:
        pkg = __import__(package)
        names = [package]
        for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                names.append(info.name)
    finally:
        sys.path.pop(0)
    return sorted(names)


def _toctree(entries, caption=None, hidden=False, maxdepth=None) -> str:
    lines = ["```{toctree}"]
    if caption:
        lines.append(f":caption: {caption}")
    if maxdepth:
        lines.append(f":maxdepth: {maxdepth}")
    if hidden:
        lines.append(":hidden:")
    lines += ["", *entries, "```", ""]
    return "\n".join(lines)


def add_run_it(nb: dict, nb_name: str) -> None:
    """Put a "Run it" box right under the chapter's title: the command, and the notebook file itself."""
    box = (
        "```{admonition} Run it\n"
        ":class: tip run-it\n"
        f"`jupyter notebook notebooks/{nb_name}` "
        "(after `pip install -e \".[notebooks]\"` in a clone). "
        f"The notebook file: {{download}}`{nb_name} <_originals/{nb_name}>`. "
        "This page shows the outputs stored in the notebook; building the site executes nothing.\n"
        "```\n"
    )
    first = nb["cells"][0] if nb["cells"] else None
    if first and first["cell_type"] == "markdown":
        text = "".join(first["source"]) if isinstance(first["source"], list) else first["source"]
        title, sep, rest = text.partition("\n")
        if title.startswith("# "):  # the usual first cell: "# Chapter N — ..." then the goals
            first["source"] = title + "\n\n" + box + "\n" + rest
            return
    cell = {"cell_type": "markdown", "id": "tinyrec-run-it", "metadata": {}, "source": box}
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) < (4, 5):
        del cell["id"]  # cell ids exist from nbformat 4.5 on
    nb["cells"].insert(0, cell)


def copy_mathjax(dest: Path) -> None:
    """Copy MathJax 3 into the site, from the django-static-mathjax wheel (MathJax's release files as
    published, packaged for pip; its Python side is never imported). Only what the ``tex-chtml.js``
    component can load is copied: the component, its CommonHTML fonts, TeX extensions it autoloads, and
    the menu/accessibility parts it may fetch lazily."""
    spec = importlib.util.find_spec("mathjax")
    es5 = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5" if spec else None
    if es5 is None or not (es5 / "tex-chtml.js").is_file():
        sys.exit('docs/build.py: MathJax not found; install the docs extra: pip install -e ".[docs]"')

    def unused(folder, names):
        rel = Path(folder).relative_to(es5).as_posix()
        if rel == ".":  # the other combined components (SVG output, MathML/AsciiMath input) are never loaded
            return [n for n in names if n.endswith(".js") and n != "tex-chtml.js"] + ["node-main.js"]
        if rel in ("output", "input"):
            return [n for n in names if n not in ("chtml", "chtml.js", "tex", "tex.js")]
        return []

    shutil.copytree(es5, dest, ignore=unused)


def stage(src: Path) -> None:
    """Lay out the Sphinx source tree in ``src`` from the repository's files."""
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks" / "_originals").mkdir(parents=True)
    (src / "api").mkdir()

    shutil.copy2(DOCS / "conf.py", src / "conf.py")
    shutil.copytree(DOCS / "_static", src / "_static")
    if (DOCS / "img").is_dir():  # images the README shows (docs/img/...), at the same relative path
        shutil.copytree(DOCS / "img", src / "docs" / "img")

    copy_mathjax(src / "_static" / "mathjax")

    # Front page: the README, then the book's table of contents.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (src / "index.md").write_text(
        readme.rstrip() + "\n\n" + _toctree(["notebooks/index", "glossary", "api/index"], hidden=True),
        encoding="utf-8")

    # The course: the chapter map, and each chapter with a "run it" cell under its title cell.
    nbs = chapters()
    chapter_map = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    (src / "notebooks" / "index.md").write_text(
        chapter_map.rstrip() + "\n\n" + _toctree([p.stem for p in nbs], hidden=True), encoding="utf-8")
    for path in nbs:
        shutil.copy2(path, src / "notebooks" / "_originals" / path.name)
        nb = json.loads(path.read_text(encoding="utf-8"))
        add_run_it(nb, path.name)
        (src / "notebooks" / path.name).write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")

    # The glossary: written as docs/glossary.md, whose links are relative to docs/.
    glossary = (DOCS / "glossary.md").read_text(encoding="utf-8")
    (src / "glossary.md").write_text(glossary.replace("](../", "]("), encoding="utf-8")

    # The API reference: one page per public module.
    modules = public_modules()
    pages = []
    for name in modules:
        if name == "tinyrec":
            continue
        title = f"``{name}``"
        (src / "api" / f"{name}.rst").write_text(
            f"{title}\n{'=' * len(title)}\n\n.. automodule:: {name}\n   :members:\n   :show-inheritance:\n"
            "   :ignore-module-all:\n", encoding="utf-8")
        pages.append(name)
    index = ["API reference", "=============", "", ".. automodule:: tinyrec", "",
             "One page per public module, generated from the docstrings (shapes and formulas included).", "",
             ".. toctree::", "   :maxdepth: 1", "", *[f"   {name}" for name in pages], ""]
    (src / "api" / "index.rst").write_text("\n".join(index), encoding="utf-8")


def build(builddir: Path, quiet: bool = False, strict_docstrings: bool = False) -> Path:
    """Stage and build; returns the HTML directory. Raises CalledProcessError when Sphinx fails.

    ``strict_docstrings``: a docstring that is not valid reStructuredText fails the build instead of being
    shown verbatim (see docs/conf.py)."""
    builddir = Path(builddir).resolve()
    src, html = builddir / "src", builddir / "html"
    stage(src)
    if html.exists():  # Sphinx never deletes files, so stale pages or scripts would linger
        shutil.rmtree(html)
    # -W: warnings are errors; --keep-going: report all of them; -E: always a fresh environment.
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-E",
           "-d", str(builddir / "doctrees"), str(src), str(html)]
    if quiet:
        cmd.insert(3, "-q")
    # autodoc imports this checkout's tinyrec, whatever else is installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "TINYREC_DOCS_STRICT": "1" if strict_docstrings else "0"}
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)
    return html


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builddir", type=Path, default=DOCS / "_build",
                        help="where to stage sources and write html/ (default: docs/_build)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("--strict-docstrings", action="store_true",
                        help="fail on docstrings that are not valid reStructuredText instead of showing them verbatim")
    args = parser.parse_args(argv)
    try:
        html = build(args.builddir, quiet=args.quiet, strict_docstrings=args.strict_docstrings)
    except subprocess.CalledProcessError as err:
        print(f"docs/build.py: Sphinx failed (exit {err.returncode}); see the warnings above. Paths under "
              f"{Path(args.builddir) / 'src'} are staged copies: index.md is README.md, glossary.md is "
              "docs/glossary.md, notebooks/ is notebooks/.", file=sys.stderr)
        return err.returncode or 1
    report = html.parent / "verbatim-docstrings.txt"
    verbatim = report.read_text(encoding="utf-8").splitlines() if report.exists() else []
    if verbatim:
        print(f"{len(verbatim)} docstrings are not valid reStructuredText and are shown verbatim "
              f"(listed in {report}; --strict-docstrings shows why each one fails).")
    print(f"Built {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
