"""Run README.md's ```python blocks in order, in one namespace, as a reader pasting them would.

Used by tests/test_readme.py (in the test environment) and tests/test_wheel.py (in a fresh environment
with the installed wheel), so it needs nothing but the standard library and tinyrec. Before each block it
prints a marker line, so a test can tell which block printed what::

    python tests/run_readme_blocks.py README.md        # from any working directory
"""

import re
import sys
import time
from pathlib import Path

MARKER = "=== README block {number} (line {line}) ==="


def python_blocks(text):
    """``[(line, source), ...]``: each fenced ```python block and the README line it starts on."""
    return [(text.count("\n", 0, m.start()) + 2, m.group(1))
            for m in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)]


def main(readme):
    namespace = {"__name__": "__main__"}
    for number, (line, source) in enumerate(python_blocks(Path(readme).read_text(encoding="utf-8")), 1):
        print(MARKER.format(number=number, line=line), flush=True)
        start = time.perf_counter()
        exec(compile(source, f"{readme}, block {number} (line {line})", "exec"), namespace)
        print(f"(block {number} took {time.perf_counter() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
