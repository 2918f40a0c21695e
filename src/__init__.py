"""Footfall: collects user-activity logs, keeps every one of them, turns them into answers."""

import warnings

__version__ = "0.1.0"

# connexion imports starlette's TestClient when it is imported, and starlette >= 1.10 warns
# there that it will drop httpx: printed on every `footfall` command, a warning no user of
# Footfall can act on (the suite ignores it too, in pyproject's filterwarnings).
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
