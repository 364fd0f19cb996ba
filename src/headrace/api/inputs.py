"""One check of every request's text before any route runs: path, query and JSON body.

Whatever cannot round-trip through both databases and JSON (NUL, unpaired surrogates,
JSON nested too deep) is refused here with 422 naming the part, so no route, service or
store sees it. The service layer applies the same checks (``headrace.model.text``) for
the Python API.
"""

from __future__ import annotations

import json

from fastapi import Request

from headrace.model import text


async def check_request(request: Request) -> None:
    """Refuse a request whose path parameters, query or JSON body cannot be stored.

    Raises:
        InvalidInput: naming the parameter (``path.job_id``, ``query.type``, ``body.params``).
    """
    for name, value in request.path_params.items():
        text.check_text(f"path.{name}", str(value))
    for name, value in request.query_params.multi_items():
        text.check_text(f"query.{text.check_text('query', name)}", value)
    if request.method in ("POST", "PUT", "PATCH") and "json" in request.headers.get(
        "content-type", ""
    ):
        body = await request.body()
        if not body:
            return
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            return  # the route's own parsing reports malformed JSON
        text.check_value("body", value)
