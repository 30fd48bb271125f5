"""Screenshot a chapter of the built site for the README: ``python docs/screenshot.py``.

Run ``python docs/build.py`` first. Serves docs/_build/html on 127.0.0.1, opens a chapter in headless
Debian Chromium (Playwright), and writes docs/img/chapter.png, reduced to a 256-colour palette so it
stays small in the repository.
"""

from __future__ import annotations

import argparse
import functools
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="03_backpropagation")
    parser.add_argument("--html", type=Path, default=DOCS / "_build" / "html")
    parser.add_argument("--out", type=Path, default=DOCS / "img" / "chapter.png")
    args = parser.parse_args(argv)
    if not (args.html / "notebooks" / f"{args.chapter}.html").is_file():
        sys.exit(f"docs/screenshot.py: no {args.chapter}.html under {args.html}; run python docs/build.py first")

    from PIL import Image  # matplotlib's dependency, so present wherever the notebooks run
    from playwright.sync_api import sync_playwright

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(args.html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/notebooks/{args.chapter}.html")
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("MathJax.startup.promise")
            page.screenshot(path=str(args.out))
            browser.close()
    finally:
        server.shutdown()
    Image.open(args.out).convert("RGB").quantize(colors=256).save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
