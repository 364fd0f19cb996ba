"""The ``Response`` the watsonx SDK's calls return: a status code and the JSON of what changed."""

from __future__ import annotations

from typing import Any


class Response:
    """An HTTP-like answer: ``status_code`` and ``json()``, as ``requests.Response`` has.

    Headrace calls the service (embedded) or the REST API (remote) and builds this from
    what the call returned, so a script checking ``response.status_code == 200`` works
    both ways.
    """

    def __init__(self, status_code: int, body: Any = None) -> None:
        self.status_code = status_code
        self._body = body

    @property
    def ok(self) -> bool:
        """Whether the status code is below 400."""
        return self.status_code < 400

    def json(self) -> Any:
        """What changed, as JSON values (for 204: what was canceled or deleted)."""
        return self._body

    def raise_for_status(self) -> None:
        """Nothing to raise: a failed call raised its Headrace error already."""

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"
