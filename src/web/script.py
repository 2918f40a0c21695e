"""`/footfall.js` and `/footfall.mjs`: the in-page script, served by Footfall itself.

Not an API operation (no key, no spec entry): a static file every page of a site loads.
The minified build (`footfall.min.js`, made from the readable `footfall.js` beside it by
`scripts/build-js`) is read once per process; answers carry an ETag (a repeat load is a
304), a cache lifetime, and a gzipped body for clients that accept it. The `.mjs` variant
is the same code with an `export`, for `import footfall from ".../footfall.mjs"`.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import flask
from connexion import FlaskApp

STATIC = Path(__file__).parent.parent / "static"
BUILT = STATIC / "footfall.min.js"
#: Appended for the ES module: the export, and the API's address beside the script's own.
MODULE_TAIL = (
    b'self.footfall.base=new URL("api/v1",import.meta.url).href;export default self.footfall;\n'
)
CACHE_S = 3600


@dataclass(frozen=True)
class _Asset:
    body: bytes
    gzipped: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> _Asset:
        return cls(body, gzip.compress(body, 9, mtime=0), hashlib.sha256(body).hexdigest()[:32])

    def answer(self) -> flask.Response:
        request = flask.request
        headers = {
            "Cache-Control": f"public, max-age={CACHE_S}",
            "ETag": f'"{self.etag}"',
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
            # Public code, no credentials: any page may load it, also as a module (CORS).
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
        }
        if self.etag in request.if_none_match:
            return flask.Response(status=304, headers=headers)
        body = self.body
        if "gzip" in request.accept_encodings:
            body, headers["Content-Encoding"] = self.gzipped, "gzip"
        return flask.Response(body, headers=headers, content_type="text/javascript; charset=utf-8")


def serve_script(app: FlaskApp) -> None:
    """Add the script's routes to the app (called once by the app factory)."""
    built = BUILT.read_bytes()
    script, module = _Asset.of(built), _Asset.of(built + MODULE_TAIL)
    app.add_url_rule("/footfall.js", "footfall_js", script.answer, methods=["GET"])
    app.add_url_rule("/footfall.mjs", "footfall_mjs", module.answer, methods=["GET"])
