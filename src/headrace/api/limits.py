"""An ASGI middleware that refuses request bodies over a size with 413 problem+json.

The limits live in ``headrace.defaults``: ``MAX_BODY_BYTES`` for every request, and a
larger ``MAX_PIPELINE_BODY_BYTES`` for ``POST /pipeline-jobs``, whose body carries a pickled
pipeline with its ``from_list`` items.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from headrace import defaults
from headrace.api.problems import MEDIA_TYPE


class BodyTooLarge(StarletteHTTPException):
    """Raised inside ``receive`` once a streamed body passes the limit (the app answers 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


class BodyLimit:
    """Refuse bodies larger than ``limit`` bytes: by Content-Length, or while streaming.

    ``paths`` raises the limit for requests to exact paths (``{"/pipeline-jobs": 32 MiB}``).
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int = defaults.MAX_BODY_BYTES,
        paths: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.paths = dict(paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(str(scope.get("path", "")).rstrip("/") or "/", self.limit)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    size = 0
                if size > limit:
                    await self._refuse(scope, send, limit)
                    return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "type": "urn:headrace:problem:too-large",
                "title": "too large",
                "status": 413,
                "detail": f"request body over {limit} bytes",
                "instance": scope.get("path"),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
