"""The documentation stays true: every setting is in .env.example and the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from footfall.settings import Settings

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("document", [".env.example", "README.md"])
def test_every_setting_is_documented(document):
    text = (ROOT / document).read_text()
    missing = [name.upper() for name in Settings.names() if name.upper() not in text]
    assert not missing, f"{document} does not mention {missing}"


def test_ci_runs_exactly_the_readme_test_command():
    assert "scripts/test" in (ROOT / "README.md").read_text()
    assert "exec scripts/test" in (ROOT / ".ci" / "run").read_text()
