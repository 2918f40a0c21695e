"""A method the spec does not define on a path: 405 with every method it does define."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from footfall.app import create_app
from tests.conftest import keyed_client

SPEC = yaml.safe_load((Path(__file__).parent.parent / "openapi" / "footfall.yaml").read_text())
TRIED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _supported(item: dict) -> set[str]:
    methods = {m.upper() for m in item if m.upper() in TRIED}
    return methods | ({"HEAD"} if "GET" in methods else set())


@pytest.mark.parametrize("template", list(SPEC["paths"]))
def test_a_405_allows_exactly_the_methods_of_the_spec_path_item(settings, db, redis, template):
    # Without response validation: a HEAD answer has no body to validate.
    app = create_app(settings.replace({"validate_responses": False}))
    client = keyed_client(app, db)
    path = "/api/v1" + re.sub(r"\{[^}]+\}", "x1", template)
    supported = _supported(SPEC["paths"][template])
    for method in TRIED:
        response = client.request(method, path)
        if method in supported:
            assert response.status_code not in (405, 500), (method, path, response.text)
            continue
        assert response.status_code == 405, (method, path, response.text)
        assert set(response.headers["Allow"].split(", ")) == supported, (method, path)
        assert response.headers["content-type"] == "application/problem+json"
        if method != "HEAD":  # a HEAD answer has no body
            assert method in response.json()["detail"]
