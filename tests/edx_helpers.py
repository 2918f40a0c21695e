"""The edX fixture (tests/fixtures/edx/, written by hand) and how the tests import it."""

from __future__ import annotations

import io
from pathlib import Path

from pymongo.database import Database

from footfall.edx.errors import ErrorReport
from footfall.edx.importer import Importer, Summary
from footfall.edx.progress import Progress
from footfall.edx.reader import sources
from footfall.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "edx"
#: Two days of a course, with other courses' lines, bad lines and blank lines (47 lines).
LOG = FIXTURES / "tracking.log"
#: The next day, gzipped; its first two lines are lines 31 and 32 of LOG again.
LOG_GZ = FIXTURES / "tracking.log-20260304.gz"
COURSE = "course-v1:IITB+Py101+2026"
V1 = "block-v1:IITB+Py101+2026+type@video+block@intro"
V2 = "block-v1:IITB+Py101+2026+type@video+block@loops"
P1 = "block-v1:IITB+Py101+2026+type@problem+block@q1"
P2 = "block-v1:IITB+Py101+2026+type@problem+block@q2"
FINAL = "block-v1:IITB+Py101+2026+type@problem+block@final"
WEEK1 = "block-v1:IITB+Py101+2026+type@sequential+block@week1"
PDF = "/asset-v1:IITB+Py101+2026+type@asset+block@python_book.pdf"


def import_files(
    db: Database,
    settings: Settings,
    *files: Path | str,
    errors: Path | None = None,
    restart: bool = False,
    batch_size: int = 7,
) -> tuple[Summary, ErrorReport]:
    """Import in this process (small batches, so batching is exercised)."""
    report = ErrorReport(errors)
    importer = Importer(
        db,
        settings,
        report,
        Progress(io.StringIO()),
        batch_size=batch_size,
        restart=restart,
    )
    try:
        summary = importer.run(sources([str(f) for f in files]))
    finally:
        report.close()
    return summary, report
