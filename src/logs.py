"""How Footfall's processes log: one configuration, applied by the entry points.

`footfall serve` hands it to uvicorn (which applies it in every worker process), the
other commands apply it themselves; the app factory leaves logging alone, so an
embedding application or a test keeps its own. `LOG_FORMAT=json` writes one JSON
object per line (python-json-logger) for log collectors; `text` is for people.
"""

from __future__ import annotations

import logging.config
from typing import Any

from footfall.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


def dict_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary (plain data: uvicorn pickles it to its
    worker processes)."""
    if settings.logging.log_format == "json":
        formatter: dict[str, Any] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"footfall": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "footfall",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": settings.logging.log_level, "handlers": ["stderr"]},
        "loggers": {
            # pymongo's DEBUG logs print whole command replies, api_keys records (learner
            # token secrets) included: they stay quiet whatever LOG_LEVEL is (and
            # footfall.connections keeps them so where this configuration is not applied).
            "pymongo": {"level": "INFO"},
            # uvicorn's own loggers go through the same handler and format.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True},
        },
    }


def configure(settings: Settings) -> None:
    logging.config.dictConfig(dict_config(settings))
