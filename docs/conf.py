"""Sphinx configuration for the tinyrec book. docs/build.py copies this file into the staged sources."""

project = "tinyrec"
author = "the tinyrec authors"
copyright = "the tinyrec authors, MIT licence"
html_title = "tinyrec — a deep recommender from scratch"
language = "en"

extensions = [
    "myst_nb",               # Markdown pages and notebooks (with their stored outputs)
    "sphinx.ext.autodoc",    # the API reference, from the docstrings
    "sphinx.ext.napoleon",   # the docstrings' Google-style "Args:" / "Returns:" sections
    "sphinx.ext.mathjax",
]

# Notebooks are committed executed; the book shows those outputs and never runs a kernel.
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "notebooks/_originals"]

# The docstrings are plain text with unicode math (xᵀ·dy); shapes live in ``literals``.
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"exclude-members": "__init__"}
napoleon_google_docstring = True
napoleon_numpy_docstring = True   # a few (the MovieLens loader) use NumPy-style sections
napoleon_use_ivar = True     # "Attributes:" as a field list, not as extra objects that could collide
napoleon_use_rtype = False

# Offline: MathJax is copied into _static/mathjax by docs/build.py (no CDN).
mathjax_path = "mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["tinyrec.css"]
html_theme_options = {
    "use_download_button": True,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    "show_toc_level": 2,
}
# The theme leaves the colour mode empty unless told, and then logs a console error on every page.
html_context = {"default_mode": "light"}
html_last_updated_fmt = None
html_copy_source = True


# --- Docstrings that are not valid reStructuredText are shown verbatim --------------------------------
# tinyrec's docstrings are written to be read in a terminal (help(), an editor): plain text, unicode math
# (xᵀ·dy), hand-aligned tables. Most of them are also valid reStructuredText and render as such; the few
# that are not (an indented continuation line, a table wider than its rule, |a_i| read as a substitution)
# would each be a docutils warning, and so a failed build, although nothing is wrong with them as text.
# So each docstring is first parsed on its own; if docutils objects, the page shows the docstring exactly
# as written, in a literal block, and the build says so (an info line, not a warning). Links, toctrees,
# notebooks and everything else stay under -W. TINYREC_DOCS_STRICT=1 (docs/build.py --strict-docstrings)
# turns the fallback off, to find and fix such docstrings.
import inspect  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

from docutils.core import publish_doctree  # noqa: E402
from sphinx.util import logging as sphinx_logging  # noqa: E402

_logger = sphinx_logging.getLogger("tinyrec.docs")
# Sphinx's own roles and directives (:func:, .. seealso::) are unknown to a bare docutils parse: not a fault.
_SPHINX_ONLY = ("Unknown interpreted text role", "Unknown directive type", "No role entry", "No directive entry")


def _rst_problem(text, env):
    """The first docutils warning or error that parsing ``text`` alone gives, or None if it parses cleanly.

    Inside a Sphinx build the parse sees Sphinx's roles (:class:, :func:), which need ``env``; they only
    make pending cross-references here, which are thrown away with this throw-away doctree.
    """
    stream = io.StringIO()
    try:
        publish_doctree(text, settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": stream,
                                                  "env": env})
    except Exception:  # noqa: BLE001 - a construct only Sphinx's real pass can handle: let that pass judge it
        return None
    for line in stream.getvalue().splitlines():
        if re.search(r"\((WARNING|ERROR|SEVERE)/\d\)", line) and not any(s in line for s in _SPHINX_ONLY):
            return line
    return None


def _verbatim_if_not_rst(app, what, name, obj, options, lines):
    if os.environ.get("TINYREC_DOCS_STRICT") == "1" or not lines:
        return
    problem = _rst_problem("\n".join(lines), app.env)
    if problem is None:
        return
    original = inspect.getdoc(obj) or "\n".join(lines)
    lines[:] = ["::", ""] + ["    " + line if line else "" for line in original.splitlines()] + [""]
    _logger.info("tinyrec docs: docstring of %s shown verbatim (not reStructuredText: %s)", name, problem)
    # keyed by where the object is defined, so a class re-exported by its package is listed once
    qualname, module = getattr(obj, "__qualname__", None), getattr(obj, "__module__", None)
    where = f"{module}.{qualname}" if qualname and module else name
    _verbatim[where] = problem


_verbatim = {}


def _report_verbatim(app, exception):
    """List the verbatim docstrings beside the HTML, for docs/build.py to summarise."""
    if exception is None:
        report = "".join(f"{name}\t{problem}\n" for name, problem in sorted(_verbatim.items()))
        (Path(app.outdir).parent / "verbatim-docstrings.txt").write_text(report, encoding="utf-8")


def setup(app):
    # After napoleon (priority 500) has turned "Args:" sections into fields, so its output is what is checked.
    app.connect("autodoc-process-docstring", _verbatim_if_not_rst, priority=600)
    app.connect("build-finished", _report_verbatim)
