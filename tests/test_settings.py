"""Settings read from the environment, and written back for child processes."""

from __future__ import annotations

import pytest

from footfall.settings import Settings


def test_environ_gives_back_the_same_settings_in_a_child_process(monkeypatch):
    original = Settings(
        _env_file=None,
        trusted_proxies="10.0.0.0/8,::1/128",
        redact_keys="password,pin",
        validate_responses=True,
        workers=3,
    )
    for name, value in original.environ().items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None) == original


def test_a_bad_setting_is_refused_with_its_name(monkeypatch):
    monkeypatch.setenv("FLUSH_BATCH_SIZE", "zero")
    with pytest.raises(ValueError, match="flush_batch_size"):
        Settings(_env_file=None)
