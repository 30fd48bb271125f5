"""The course website, built once by docs/build.py and checked in a real browser (headless Chromium).

For the front page, the glossary, the API index and every chapter: the page loads with no console
errors and fetches nothing from outside 127.0.0.1 (the site must work offline); every image has loaded;
MathJax has typeset the formulas (no TeX errors, no raw ``$$`` or ``\\frac`` left in the text, solutions
in <details> included); every link in the sidebar and the page answers 200. The search page finds
"backpropagation" and "反向传播". Screenshots of each page are saved under pytest's temporary folder
(the path is printed) for a person to look at.

Needs the docs tools (part of the ``test`` extra) and Debian's ``chromium`` + ``fonts-noto-cjk``.
"""

from __future__ import annotations

import functools
import html
import importlib
import importlib.util
import json
import pkgutil
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

import tinyrec

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

_missing = [name for name in ("sphinx", "myst_nb", "sphinx_book_theme", "mathjax", "playwright")
            if importlib.util.find_spec(name) is None]
pytestmark = pytest.mark.skipif(
    bool(_missing), reason=f"docs tools not installed ({', '.join(_missing)}): pip install -e \".[test]\"")


def _chromium():
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _public_modules():
    names = ["tinyrec"]
    for info in pkgutil.walk_packages(tinyrec.__path__, prefix="tinyrec."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


# --- fixtures: one build, one server, one browser for the whole session --------------------------------

@pytest.fixture(scope="session")
def site(tmp_path_factory):
    builddir = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, str(ROOT / "docs" / "build.py"), "--builddir", str(builddir), "-q"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, f"docs/build.py failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    return builddir / "html"


@pytest.fixture(scope="session")
def base_url(site):
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    executable = _chromium()
    if executable is None:
        pytest.skip("Chromium not found at /usr/bin/chromium: apt-get install -y chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots of the site: {folder}")
    return folder


@functools.cache
def _status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


class Visit:
    """One page opened in a fresh browser page, with what went wrong while it loaded."""

    def __init__(self, browser, url):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors, self.outside = [], []
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("requestfailed", lambda req: self.errors.append(f"request failed: {req.url}"))
        self.page.on("response", lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status}: {r.url}"))
        self.page.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"), self._block)
        self.page.goto(url, wait_until="load")
        self.typeset()

    def typeset(self):
        """Wait for MathJax, on pages that load it (Sphinx adds it only where there is math): it typesets
        after the load event, and its startup promise settles when the page is done."""
        if self.page.evaluate("!!document.querySelector('script[src*=\"mathjax/tex-chtml.js\"]')"):
            self.page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise",
                                        timeout=15000)
            self.page.evaluate("MathJax.startup.promise")

    def _block(self, route):
        self.outside.append(route.request.url)
        route.abort()


# Text of the article outside code, formulas and the run-it box: where raw TeX must not survive.
_PROSE_TEXT = """() => {
  const main = document.querySelector('main') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('pre, code, mjx-container, script, style, .cell_output').forEach(e => e.remove());
  return copy.textContent;
}"""


def _check_page(browser, url, shots, name):
    visit = Visit(browser, url)
    page = visit.page
    try:
        # Open every solution, then let MathJax finish anything it typesets on the way.
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        visit.typeset()

        # Images: eager-load any lazy ones, wait for all to settle, then every one must have pixels.
        page.evaluate("""() => Promise.allSettled([...document.images].map(img => {
            img.loading = 'eager'; return img.decode(); }))""")
        broken = page.evaluate("[...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
                               ".map(i => i.getAttribute('src'))")
        assert broken == [], f"{name}: images that did not load: {broken}"

        n_math = page.locator("mjx-container").count()
        tex_errors = page.locator("mjx-merror").count()
        assert tex_errors == 0, f"{name}: {tex_errors} formulas failed to typeset"
        prose = page.evaluate(_PROSE_TEXT)
        for raw in ("$$", "\\frac", "\\begin{", "\\sum", "\\mathbf"):
            assert raw not in prose, f"{name}: raw TeX {raw!r} left in the text: ...{_around(prose, raw)}..."

        links = page.evaluate("""() => ({
            sidebar: [...document.querySelectorAll('nav.bd-docs-nav a[href]')].map(a => a.href),
            all: [...document.querySelectorAll('a[href]')].map(a => a.href)})""")
        assert links["sidebar"], f"{name}: no sidebar links found"
        local = {urldefrag(h).url for h in links["sidebar"] + links["all"] if h.startswith(url.split("/")[0] + "//")}
        bad = {h: _status(h) for h in sorted(local) if _status(h) != 200}
        assert bad == {}, f"{name}: links that do not answer 200: {bad}"

        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(shots / f"{name}.png"))
        assert visit.outside == [], f"{name}: tried to load from outside the site: {visit.outside}"
        assert visit.errors == [], f"{name}: console errors: {visit.errors}"
        return page, n_math, links["sidebar"]
    except BaseException:
        page.close()
        raise


def _around(text, needle, width=60):
    i = text.find(needle)
    return text[max(0, i - width): i + width]


# --- the checks ---------------------------------------------------------------------------------------

def test_site_has_no_external_scripts_styles_or_fonts(site):
    """Static check of the built files (the browser checks below also block any outside request)."""
    tag = re.compile(r"<(script|link|img|iframe|source|embed)\b[^>]*?\b(src|href)=[\"']((?:https?:)?//[^\"']*)",
                     re.IGNORECASE)
    css_url = re.compile(r"(?:url\(|@import\s+)[\"']?((?:https?:)?//[^\"')]+)", re.IGNORECASE)
    found = []
    for path in site.rglob("*.html"):
        found += [(path.name, m.group(3)) for m in tag.finditer(path.read_text(encoding="utf-8"))]
    for path in site.rglob("*.css"):
        found += [(path.name, m.group(1)) for m in css_url.finditer(path.read_text(encoding="utf-8"))]
    assert found == []
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert list((site / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff")), "MathJax fonts"


def test_every_public_module_has_an_api_page(site):
    modules = _public_modules()
    assert "tinyrec.layers" in modules and not any("._" in m for m in modules)
    missing = [m for m in modules if m != "tinyrec" and not (site / "api" / f"{m}.html").is_file()]
    assert missing == []
    dense = (site / "api" / "tinyrec.layers.html").read_text(encoding="utf-8")
    assert 'id="tinyrec.layers.Dense"' in dense and "tinyrec.layers.Dense.backward" in dense
    # No docstring is lost, whether rendered as reStructuredText or shown verbatim: each module's first
    # line is on its page (compared without markup characters, which rendering removes).
    unmarked = functools.partial(re.sub, r"[`*|\\\s]+", "")
    for name in modules:
        doc = (importlib.import_module(name).__doc__ or "").strip()
        if name == "tinyrec" or not doc:
            continue
        page = re.sub(r"<[^>]+>", "", (site / "api" / f"{name}.html").read_text(encoding="utf-8"))
        assert unmarked(doc.splitlines()[0])[:40] in unmarked(html.unescape(page)), f"{name}: docstring missing"


def test_front_page_glossary_and_api_in_the_browser(site, base_url, browser, shots):
    for path, name in (("index.html", "index"), ("glossary.html", "glossary"), ("api/index.html", "api")):
        page, _, sidebar = _check_page(browser, urljoin(base_url, path), shots, name)
        try:
            if name == "index":
                assert "tinyrec" in page.title()
                # the sidebar reaches every chapter, the glossary and the API reference
                targets = {urlparse(h).path for h in sidebar}
                for nb in CHAPTERS:
                    assert f"/notebooks/{nb.stem}.html" in targets, f"sidebar lacks chapter {nb.stem}"
                assert "/glossary.html" in targets and "/api/index.html" in targets
            if name == "glossary":
                text = page.inner_text("main")
                assert "反向传播" in text and "backpropagation" in text
                family = page.evaluate("getComputedStyle(document.querySelector('main table')).fontFamily")
                assert "Noto Sans CJK SC" in family, family
        finally:
            page.close()


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem[:2])
def test_chapter_page_in_the_browser(site, base_url, browser, shots, notebook):
    page, n_math, _ = _check_page(browser, urljoin(base_url, f"notebooks/{notebook.stem}.html"), shots,
                                  notebook.stem)
    try:
        # every chapter derives its formulas in LaTeX, so MathJax must have typeset some
        assert n_math > 0, f"{notebook.stem}: no typeset formulas"
        # its stored plots are shown: an <img> for each output whose richest form is an image (myst-nb
        # prefers HTML/JavaScript/widgets over images, as Jupyter does)
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        richer = {"text/html", "application/javascript", "application/vnd.jupyter.widget-view+json"}
        n_plots = sum(bool(data.keys() & {"image/png", "image/jpeg", "image/svg+xml"}) and not data.keys() & richer
                      for c in cells for data in (out.get("data", {}) for out in c.get("outputs", [])))
        assert n_plots > 0, f"{notebook.stem}: every chapter has a plot"
        assert page.locator("main img").count() >= n_plots
        # how to run it, and the notebook file itself (the committed one, byte for byte)
        run_it = page.inner_text(".run-it")
        assert f"jupyter notebook notebooks/{notebook.name}" in run_it
        href = page.get_attribute(".run-it a.download", "href")
        with urllib.request.urlopen(urljoin(page.url, href), timeout=10) as response:
            assert response.read() == notebook.read_bytes()
    finally:
        page.close()


@pytest.mark.parametrize("query, expected_page", [("backpropagation", "03_backpropagation"),
                                                  ("反向传播", "03_backpropagation")])
def test_search_finds_terms_in_both_languages(site, base_url, browser, query, expected_page):
    visit = Visit(browser, base_url + "index.html")
    page = visit.page
    try:
        page.keyboard.press("Control+k")  # the theme's search dialog, as a reader would open it
        box = page.locator("#pst-search-dialog input[type=search]")
        box.wait_for(state="visible", timeout=5000)
        box.fill(query)
        box.press("Enter")
        page.wait_for_url(re.compile(r"search\.html\?q="), timeout=10000)
        page.wait_for_selector("#search-results ul.search li", timeout=15000)
        hits = page.evaluate("[...document.querySelectorAll('#search-results ul.search li a')].map(a => a.href)")
        assert any(expected_page in h for h in hits), f"search for {query!r} gave {hits}"
        assert visit.outside == [] and visit.errors == [], (visit.outside, visit.errors)
    finally:
        page.close()
