"""The served script is built from the readable source, and the docs state its real size.

Footfall serves `src/static/footfall.min.js` (terser's output, committed so that
installing Footfall needs no Node.js); its first line names the SHA-256 of the source it
was built from, so a source changed without `scripts/build-js` fails here.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

from footfall.web.script import BUILT, STATIC

DOC = Path(__file__).parent.parent / "docs" / "clients" / "script.md"


def test_the_minified_script_is_built_from_the_current_source():
    source = (STATIC / "footfall.js").read_bytes()
    header = BUILT.read_text().splitlines()[0]
    assert f"source-sha256:{hashlib.sha256(source).hexdigest()}" in header, (
        "src/static/footfall.js changed: run scripts/build-js"
    )


def test_the_docs_state_the_scripts_minified_and_gzipped_sizes():
    built = BUILT.read_bytes()
    stated = re.search(r"(\d[\d,]*) bytes minified, (\d[\d,]*) bytes gzipped", DOC.read_text())
    assert stated, "docs/clients/script.md must state the sizes"
    minified, gzipped = (int(n.replace(",", "")) for n in stated.groups())
    assert minified == len(built)
    assert abs(gzipped - len(gzip.compress(built, 9))) <= 16  # gzip builds differ by bytes
    assert gzipped <= 4096
