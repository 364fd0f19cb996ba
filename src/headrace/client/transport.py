"""The remote client's HTTP: one httpx client with the token, problem+json to Headrace errors."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from headrace import defaults, errors

#: Problem slugs whose Headrace error has no extension members to rebuild it from.
_PLAIN: dict[str, type[errors.HeadraceError]] = {
    "job-already-exists": errors.JobAlreadyExists,
    "conflict": errors.Conflict,
    "permission-denied": errors.PermissionDenied,
    "unauthenticated": errors.Unauthenticated,
    "timeout": errors.TimeoutException,
    "store-unavailable": errors.StoreUnavailable,
    "store-busy": errors.StoreUnavailable,
    "store-error": errors.StoreError,
}
#: Methods sent again, once, when the connection fails under them: they change nothing, so
#: a second send is safe even if the server had read the first.
_IDEMPOTENT = frozenset({"GET", "HEAD"})
#: What a pooled connection the server had closed raises when it is reused.
_DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)

#: The same by HTTP status, for answers that are not Headrace problems (a proxy's 502...).
_BY_STATUS: dict[int, type[errors.HeadraceError]] = {
    409: errors.Conflict,
    403: errors.PermissionDenied,
    401: errors.Unauthenticated,
    504: errors.TimeoutException,
    503: errors.StoreUnavailable,
}


def error_from(response: httpx.Response) -> errors.HeadraceError:
    """The Headrace error a problem+json response stands for (the class the server raised)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}

    def member(name: str, default: str = "") -> str:
        value = body.get(name)
        return default if value is None else str(value)

    detail = str(body.get("detail") or response.reason_phrase or response.status_code)
    slug = member("type").rsplit(":", 1)[-1]
    status = response.status_code
    exc: errors.HeadraceError
    if slug == "pipeline-definition":
        exc = errors.PipelineDefinitionError(member("stage", "?"), detail)
    elif slug == "invalid-archive":
        exc = errors.InvalidArchive(member("entry", "archive"), detail)
    elif slug == "invalid-input" or status in (413, 422):
        exc = errors.InvalidInput(member("field", "body"), detail)
    elif status == 404:
        exc = errors.NotFound(member("kind", "resource"), body.get("id"))
    elif slug == "illegal-transition":
        exc = errors.IllegalTransition(
            member("job_id"), member("current"), member("requested"), member("reason")
        )
    else:
        exc = _PLAIN.get(slug, _BY_STATUS.get(status, errors.HeadraceError))(detail)
    if not isinstance(exc, errors.NotFound):
        exc.args = (detail,)
    return exc


def seg(value: str) -> str:
    """``value`` as one path segment.

    Raises:
        InvalidInput: for text no URL can carry (an unpaired surrogate).
    """
    try:
        return quote(str(value), safe="")
    except UnicodeEncodeError:
        raise errors.InvalidInput("path", "is not valid Unicode (unpaired surrogate)") from None


class Http:
    """One httpx client with the token, turning problem+json answers into Headrace errors."""

    def __init__(
        self,
        url: str,
        token: str | None,
        timeout: float = defaults.HTTP_TIMEOUT_SEC,
        http: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if http is None:
            http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        http.headers.update(headers)
        self.client = http
        self.timeout = timeout

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The response of a request that succeeded (2xx).

        Raises:
            HeadraceError: the subclass the server's problem names.
            StoreUnavailable: the server cannot be reached.
        """
        if "json" in kwargs:
            # ASCII JSON: text the server must refuse (a lone surrogate) reaches it escaped,
            # so the server names the field, as it does for any other client.
            body = json.dumps(kwargs.pop("json"), allow_nan=False).encode()
            kwargs["content"] = body
            kwargs["headers"] = {**kwargs.get("headers", {}), "content-type": "application/json"}
        try:
            response = self._request(method, path, **kwargs)
        except httpx.TransportError as exc:
            msg = f"server unreachable: {exc}"
            raise errors.StoreUnavailable(msg) from exc
        if response.status_code >= 400:
            raise error_from(response)
        return response

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; a read-only one is sent again once if its connection broke.

        A kept-alive connection can be closed by the server (or a proxy) just as the pool
        reuses it; httpx's own ``retries`` covers only failures to connect, so this is
        written here. Requests that change something are not re-sent: the server may have
        done them.
        """
        try:
            return self.client.request(method, path, **kwargs)
        except _DROPPED:
            if method.upper() not in _IDEMPOTENT:
                raise
            return self.client.request(method, path, **kwargs)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of a request (``timeout=`` overrides the client's for this call).

        Raises:
            HeadraceError: the subclass the server's problem names.
            StoreUnavailable: the server cannot be reached.
        """
        return self.send(method, path, **kwargs).json()

    def created(self, path: str, body: dict[str, Any]) -> tuple[Any, bool]:
        """The JSON answer of a POST and whether it answered 201 Created.

        Raises:
            HeadraceError: the subclass the server's problem names.
        """
        response = self.send("POST", path, json=body)
        return response.json(), response.status_code == 201

    def close(self) -> None:
        """Close the connections."""
        self.client.close()
