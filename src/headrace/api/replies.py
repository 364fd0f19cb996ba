"""Hot routes' replies: the store call in one thread hop, the model serialized once.

FastAPI runs a sync (``def``) route in its thread pool, and then, for a route with a
``response_model``, hands the returned value to the thread pool a second time to validate
it before serializing it. On a loaded machine each hand-off is a thread wake-up that must
win the interpreter lock back (in a profile of ``GET /jobs/{id}`` the two took 40% of the
serving process's interpreter time on PostgreSQL). The busiest routes are ``async``
instead: they make their one blocking call through ``threaded`` and answer with
``reply``, which writes the model's JSON straight from the record (the record comes from
the store, already typed: validating it again would only copy it).

The route still declares its ``response_model``, so the OpenAPI document is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import pydantic
from fastapi import Response
from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
R = TypeVar("R")


async def threaded(call: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``call(*args, **kwargs)`` in the thread pool (it may block on the store)."""
    return await run_in_threadpool(call, *args, **kwargs)


#: Serializers by model, each built once (building one compiles a schema).
_ADAPTERS: dict[type[Any], pydantic.TypeAdapter[Any]] = {}


def adapter(model: type[Any]) -> pydantic.TypeAdapter[Any]:
    """The serializer of ``model``, built on first use and kept."""
    found = _ADAPTERS.get(model)
    if found is None:
        found = _ADAPTERS[model] = pydantic.TypeAdapter(model)
    return found


def reply(model: type[Any], value: Any, sub: Response, status_code: int = 200) -> Response:
    """``value`` as ``model``'s JSON, with what the route's dependencies set on ``sub``.

    ``sub`` is the ``Response`` FastAPI injects into the route and its dependencies: its
    headers (``X-Headrace-Insecure-Local``) and its status code, if one was set, carry
    over, as they do for a route that returns its model.
    """
    answer = Response(
        adapter(model).dump_json(value),
        status_code=sub.status_code or status_code,
        media_type="application/json",
    )
    answer.headers.raw.extend(sub.headers.raw)
    return answer
