"""The dashboard: a static page over the statistics API, served at /dashboard/.

Plain HTML, CSS and JS with vendored chart and map libraries (`vendor/LICENSES.md`), so
there is no build step and nothing is fetched from elsewhere at run time. The page asks
for a `read` key and keeps it in the tab's sessionStorage; the files themselves are
public (they hold no data).
"""

from __future__ import annotations

from pathlib import Path

import flask

ROOT = Path(__file__).parent


def register(app: flask.Flask) -> None:
    @app.get("/dashboard")
    def dashboard_redirect() -> flask.Response:
        return flask.redirect("/dashboard/", code=308)

    @app.get("/dashboard/")
    def dashboard_index() -> flask.Response:
        return flask.send_from_directory(ROOT, "index.html", max_age=0)

    @app.get("/dashboard/<path:name>")
    def dashboard_file(name: str) -> flask.Response:
        if name.startswith("vendor/") or name in ("dashboard.js", "dashboard.css", "favicon.svg"):
            return flask.send_from_directory(ROOT, name, max_age=300)
        flask.abort(404)
