"""Path parameters shared by the routers, so every route states an id the same way.

A job id must be a canonical UUID in the schema itself: clients (and schemathesis) then
know the shape up front, and a malformed id is refused with 422 naming ``job_id``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from headrace.model import text

JobId = Annotated[str, Path(description="The job's UUID", pattern=text.UUID_PATTERN)]
#: The first characters of a job's id: hex digits, hyphens allowed.
IdPrefix = Annotated[
    str, Path(pattern=r"^[0-9a-fA-F][0-9a-fA-F-]{0,63}$", description="An id or its start")
]
#: A named thing (pipeline, project, List, Map, Stream).
Name = Annotated[str, Path(min_length=1, max_length=255)]
