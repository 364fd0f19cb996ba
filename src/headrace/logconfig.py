"""Logging of jobs per seed 004's ``job_logger``: console plus a rotating, aging file."""

from __future__ import annotations

import logging
import logging.handlers
import os
import time
from pathlib import Path

from headrace.config import JobLoggerSettings

JOB_LOGGER = "headrace.job"
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class AgingRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Size-rotated file that also deletes backups older than ``max_age_days``.

    The standard library rotates by size or by time, not by size with an age limit,
    which is what seed 004's settings ask for; hence this small subclass.
    """

    def __init__(self, filename: str, max_bytes: int, backups: int, max_age_days: int) -> None:
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(filename, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self.max_age_sec = max_age_days * 86400
        self.prune()

    def doRollover(self) -> None:
        """Rotate, then drop backups past their age."""
        super().doRollover()
        self.prune()

    def prune(self) -> None:
        """Delete rotated files older than the age limit (0 keeps them all)."""
        if not self.max_age_sec:
            return
        base = Path(self.baseFilename)
        cutoff = time.time() - self.max_age_sec
        for old in base.parent.glob(base.name + ".*"):
            if old.stat().st_mtime < cutoff:
                os.remove(old)


def configure(settings: JobLoggerSettings) -> logging.Logger:
    """Set up the ``headrace.job`` logger from settings; replaces handlers it set before."""
    logger = logging.getLogger(JOB_LOGGER)
    for handler in [h for h in logger.handlers if getattr(h, "headrace", False)]:
        logger.removeHandler(handler)
        handler.close()
    console = logging.StreamHandler()
    console.setLevel(settings.console_level.upper())
    handlers: list[logging.Handler] = [console]
    if settings.file:
        file = AgingRotatingFileHandler(
            settings.file,
            settings.max_size_mb * 1024 * 1024,
            settings.max_backups,
            settings.max_age_days,
        )
        file.setLevel(settings.file_level.upper())
        handlers.append(file)
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.headrace = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    levels = [
        logging.getLevelNamesMapping()[h.upper()]
        for h in (settings.console_level, settings.file_level)
    ]
    logger.setLevel(min(levels) if settings.file else levels[0])
    logger.propagate = False
    return logger
