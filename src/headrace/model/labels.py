"""Worker labels and the labels a job requires: their spelling, and who may take whom.

A worker offers labels (``headrace worker --labels gpu,eu``); a job (or its job type)
requires some; a worker claims a job only if it offers every label the job requires.
Labels are lower-case words (``gpu``, ``eu-west``, ``ssd_1``), so a set of them is
stored as one text, sorted and comma-framed (``,eu,gpu,``): the claim tests it with
string functions both databases have, with no table of labels to join.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from headrace import errors

#: One label: a lower-case letter or digit, then letters, digits, ``_``, ``.`` or ``-``.
LABEL = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
#: Most labels a worker offers or a job requires.
MAX_LABELS = 16

Labels = tuple[str, ...]


def parse(field: str, value: str | Iterable[str] | None) -> Labels:
    """Labels from ``"gpu,eu"`` or ``["gpu", "eu"]``: checked, deduplicated, sorted.

    Raises:
        InvalidInput: naming ``field``, for a label that is not a lower-case word, or
            for more than ``MAX_LABELS`` labels.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        parts: list[str] = [p.strip() for p in value.split(",") if p.strip()]
    else:
        parts = list(value)
    for part in parts:
        if not isinstance(part, str) or LABEL.fullmatch(part) is None:
            msg = (
                f"label {part!r} is not a lower-case word of letters, digits, '_', '.', '-' "
                "(at most 63 characters, e.g. gpu, eu-west)"
            )
            raise errors.InvalidInput(field, msg)
    found = tuple(sorted(set(parts)))
    if len(found) > MAX_LABELS:
        raise errors.InvalidInput(field, f"at most {MAX_LABELS} labels, got {len(found)}")
    return found


def encode(labels: Labels) -> str | None:
    """The stored form: ``,a,b,`` (sorted, comma-framed), or None for no labels."""
    return f",{','.join(labels)}," if labels else None


def decode(stored: str | None) -> Labels:
    """Labels from their stored form (``encode``'s)."""
    return tuple(p for p in (stored or "").split(",") if p)


def satisfies(offered: Iterable[str], required: Iterable[str]) -> bool:
    """Whether a worker offering ``offered`` may take a job requiring ``required``."""
    return set(required) <= set(offered)


def missing(offered: Iterable[str], required: Iterable[str]) -> Labels:
    """The required labels a worker offering ``offered`` lacks, sorted."""
    return tuple(sorted(set(required) - set(offered)))
