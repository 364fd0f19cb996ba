"""The remote client: the embedded client's interface over a ``headrace server`` (httpx).

``Client("http://host:port", token=...)`` offers ``jobs``, ``job_types``, ``job_groups``
and ``get_list/get_map/get_stream`` as the embedded client does, and raises the same
``headrace.errors`` from the server's problem+json answers. Values in data structures
travel as JSON. ``http=`` takes any ``httpx.Client`` (Starlette's ``TestClient`` is one),
so the same tests run in-process or against a real server.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from headrace import errors
from headrace.model import status as machine
from headrace.model.job import Job, JobEvent, JobGroupInfo, JobLogLine, JobTypeInfo, Page
from headrace.model.status import Status

_JOB_FIELDS = tuple(f.name for f in dataclasses.fields(Job))
_TYPE_FIELDS = tuple(f.name for f in dataclasses.fields(JobTypeInfo))


def is_remote(target: str | None) -> bool:
    """Whether a client target names a server (an http or https URL) rather than a store."""
    return isinstance(target, str) and target.startswith(("http://", "https://"))


def error_from(response: httpx.Response) -> errors.HeadraceError:
    """The Headrace error a problem+json response stands for."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = str(body.get("detail") or response.reason_phrase or response.status_code)
    slug = str(body.get("type", "")).rsplit(":", 1)[-1]
    exc: errors.HeadraceError
    if slug == "invalid-input" or response.status_code in (413, 422):
        exc = errors.InvalidInput(str(body.get("field") or "body"), detail)
    elif response.status_code == 404:
        exc = errors.NotFound(str(body.get("kind") or "resource"), body.get("id"))
    elif slug == "illegal-transition":
        exc = errors.IllegalTransition(
            str(body.get("job_id")), str(body.get("current")), str(body.get("requested"))
        )
    else:
        cls = {
            409: errors.Conflict,
            403: errors.PermissionDenied,
            401: errors.Unauthenticated,
            504: errors.TimeoutException,
            503: errors.StoreUnavailable,
        }.get(response.status_code, errors.HeadraceError)
        exc = cls(detail)
    if not isinstance(exc, errors.NotFound):
        exc.args = (detail,)
    return exc


def job_from(data: dict[str, Any]) -> Job:
    """A ``Job`` from its JSON."""
    values: dict[str, Any] = {name: data.get(name) for name in _JOB_FIELDS}
    values["status"] = Status(values["status"])
    values["state"] = values["state"] or {}
    return Job(**values)


def _event(data: dict[str, Any]) -> JobEvent:
    return JobEvent(
        event_id=data["event_id"],
        job_id=data["job_id"],
        from_status=None if data["from_status"] is None else Status(data["from_status"]),
        to_status=Status(data["to_status"]),
        user_id=data["user_id"],
        at_ms=data["at_ms"],
        reason=data["reason"],
        attempt=data["attempt"],
    )


def _seg(value: str) -> str:
    return quote(str(value), safe="")


class Http:
    """One httpx client with the token, turning problem+json answers into Headrace errors."""

    def __init__(self, url: str, token: str | None, timeout: float, http: httpx.Client | None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if http is None:
            http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        http.headers.update(headers)
        self.client = http

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of a request.

        Raises:
            HeadraceError: the subclass the server's problem names.
            StoreUnavailable: the server cannot be reached.
        """
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            msg = f"server unreachable: {exc}"
            raise errors.StoreUnavailable(msg) from exc
        if response.status_code >= 400:
            raise error_from(response)
        return response.json()

    def created(self, path: str, body: dict[str, Any]) -> tuple[Any, bool]:
        """The JSON answer of a POST and whether it answered 201 Created."""
        try:
            response = self.client.post(path, json=body)
        except httpx.TransportError as exc:
            msg = f"server unreachable: {exc}"
            raise errors.StoreUnavailable(msg) from exc
        if response.status_code >= 400:
            raise error_from(response)
        return response.json(), response.status_code == 201


class RemoteJobs:
    """``client.jobs`` over HTTP: the ``JobService`` interface."""

    def __init__(self, http: Http) -> None:
        self._http = http

    def schedule(self, type: str, params: Any = None, **options: Any) -> Job:
        """Schedule a job; the same idempotency key returns the same job.

        Options: ``idempotency_key``, ``timeout_sec``, ``max_retries``,
        ``retry_delay_sec``, ``delay_sec``, ``name``, ``description``.

        Raises:
            NotFound: the type is not registered. InvalidInput: params or an option.
        """
        return self.schedule_ex(type, params, **options)[0]

    def schedule_ex(self, type: str, params: Any = None, **options: Any) -> tuple[Job, bool]:
        """``schedule``, also telling whether this call created the job."""
        body = {"type": type, "params": params}
        body.update({k: v for k, v in options.items() if v is not None})
        data, created = self._http.created("/jobs", body)
        return job_from(data), created

    def get(self, job_id: str) -> Job:
        """The tenant's job.

        Raises:
            NotFound: no such job in this tenant.
        """
        return job_from(self._http.call("GET", f"/jobs/{_seg(job_id)}"))

    def list(
        self,
        page: int = 1,
        limit: int = 10,
        status: str | Sequence[str] | None = None,
        order: str = "-scheduled_at",
        type: str | None = None,
    ) -> Page:
        """A page of the tenant's jobs.

        Raises:
            InvalidInput: naming ``page``, ``limit``, ``status`` or ``order``.
        """
        query: dict[str, Any] = {"page": page, "limit": limit, "order": order}
        if status:
            query["status"] = status if isinstance(status, str) else ",".join(status)
        if type is not None:
            query["type"] = type
        data = self._http.call("GET", "/jobs", params=query)
        return Page(
            items=[job_from(j) for j in data["items"]],
            total=data["total"],
            page=data["page"],
            limit=data["limit"],
        )

    def events(self, job_id: str) -> builtins.list[JobEvent]:
        """The job's status changes, oldest first."""
        data = self._http.call("GET", f"/jobs/{_seg(job_id)}/events")
        return [_event(e) for e in data["items"]]

    def logs(self, job_id: str) -> builtins.list[JobLogLine]:
        """The job's log lines, oldest first."""
        data = self._http.call("GET", f"/jobs/{_seg(job_id)}/logs")
        return [JobLogLine(**line) for line in data["items"]]

    def _control(self, job_id: str, action: str) -> Job:
        return job_from(self._http.call("POST", f"/jobs/{_seg(job_id)}/{action}"))

    def cancel(self, job_id: str) -> Job:
        """Cancel a job. Raises: NotFound, IllegalTransition."""
        return self._control(job_id, "cancel")

    def suspend(self, job_id: str) -> Job:
        """Suspend a job. Raises: NotFound, IllegalTransition."""
        return self._control(job_id, "suspend")

    def resume(self, job_id: str) -> Job:
        """Resume a suspended job. Raises: NotFound, IllegalTransition."""
        return self._control(job_id, "resume")

    def delete(self, job_id: str) -> Job:
        """Delete a job no worker holds. Raises: NotFound, IllegalTransition."""
        return job_from(self._http.call("DELETE", f"/jobs/{_seg(job_id)}"))

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Poll until the job is final (or suspended); return it.

        Raises:
            NotFound: no such job. TimeoutException: still going after ``timeout`` s.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.01
        while True:
            job = self.get(job_id)
            if job.status in machine.FINAL or job.status is Status.SUSPENDED:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                msg = f"job {job_id} still {job.status} after {timeout} s"
                raise errors.TimeoutException(msg)
            left = 0.5 if deadline is None else max(0.0, deadline - time.monotonic())
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.5)


class RemoteJobTypes:
    """``client.job_types`` over HTTP."""

    def __init__(self, http: Http) -> None:
        self._http = http

    def list(self, page: int = 1, limit: int = 100) -> list[JobTypeInfo]:
        """A page of job types, by id. Raises: InvalidInput."""
        data = self._http.call("GET", "/job-types", params={"page": page, "limit": limit})
        return [JobTypeInfo(**{k: t[k] for k in _TYPE_FIELDS}) for t in data["items"]]

    def get(self, type_id: str) -> JobTypeInfo:
        """One job type. Raises: NotFound."""
        t = self._http.call("GET", f"/job-types/{_seg(type_id)}")
        return JobTypeInfo(**{k: t[k] for k in _TYPE_FIELDS})


class RemoteJobGroups:
    """``client.job_groups`` over HTTP."""

    def __init__(self, http: Http) -> None:
        self._http = http

    def list(self, page: int = 1, limit: int = 100) -> list[JobGroupInfo]:
        """A page of job groups, by name. Raises: InvalidInput."""
        data = self._http.call("GET", "/job-groups", params={"page": page, "limit": limit})
        return [JobGroupInfo(**g) for g in data["items"]]

    def get(self, name: str) -> JobGroupInfo:
        """One job group. Raises: NotFound."""
        return JobGroupInfo(**self._http.call("GET", f"/job-groups/{_seg(name)}"))


class RemoteList:
    """A named List over HTTP (JSON values)."""

    def __init__(self, http: Http, name: str) -> None:
        self.name = name
        self._http = http
        self._path = f"/lists/{_seg(name)}"

    def append(self, item: Any) -> None:
        """Add one item at the end."""
        self.extend([item])

    add = append

    def extend(self, items: Iterable[Any]) -> None:
        """Add items at the end, in order, in one transaction."""
        self._http.call("POST", self._path, json={"items": list(items)})

    add_all = extend

    def _slice(self, offset: int, limit: int) -> dict[str, Any]:
        try:
            data: dict[str, Any] = self._http.call(
                "GET", self._path, params={"offset": offset, "limit": limit}
            )
        except errors.NotFound:
            return {"items": [], "total": 0}
        return data

    def __len__(self) -> int:
        return int(self._slice(0, 1)["total"])

    def size(self) -> int:
        """How many items the List holds."""
        return len(self)

    def to_list(self) -> list[Any]:
        """Every item, in order."""
        items: list[Any] = []
        while True:
            data = self._slice(len(items), 10_000)
            items.extend(data["items"])
            if not data["items"] or len(items) >= data["total"]:
                return items

    def __iter__(self) -> Iterator[Any]:
        return iter(self.to_list())

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return self.to_list()[index]
        length = len(self)
        position = index + length if index < 0 else index
        if not 0 <= position < length:
            msg = f"list {self.name!r} index {index} out of range (length {length})"
            raise IndexError(msg)
        return self._slice(position, 1)["items"][0]

    def get(self, index: int) -> Any:
        """The item at ``index``. Raises: IndexError."""
        return self[index]

    def clear(self) -> None:
        """Remove every item."""
        with contextlib.suppress(errors.NotFound):
            self._http.call("DELETE", self._path)


class RemoteMap:
    """A named Map over HTTP: string keys, JSON values."""

    def __init__(self, http: Http, name: str) -> None:
        self.name = name
        self._http = http
        self._path = f"/maps/{_seg(name)}"

    def _key(self, key: Any) -> str:
        if not isinstance(key, str):
            raise errors.InvalidInput("key", f"a remote Map's keys are strings, got {key!r}")
        return f"{self._path}/{_seg(key)}"

    def put(self, key: Any, value: Any) -> None:
        """Set ``key`` to ``value``."""
        self._http.call("PUT", self._key(key), json={"value": value})

    def put_all(self, entries: Mapping[Any, Any] | Iterable[tuple[Any, Any]]) -> None:
        """Set many keys (one request each)."""
        pairs = entries.items() if isinstance(entries, Mapping) else entries
        for k, v in pairs:
            self.put(k, v)

    def get(self, key: Any, default: Any = None) -> Any:
        """The value under ``key``, or ``default``."""
        try:
            return self._http.call("GET", self._key(key))["value"]
        except errors.NotFound:
            return default

    def __getitem__(self, key: Any) -> Any:
        try:
            return self._http.call("GET", self._key(key))["value"]
        except errors.NotFound:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        try:
            self._http.call("GET", self._key(key))
        except errors.NotFound:
            return False
        return True

    def remove(self, key: Any) -> Any:
        """Remove ``key``; returns its value, or None if it had none."""
        try:
            return self._http.call("DELETE", self._key(key))["value"]
        except errors.NotFound:
            return None

    def entries(self) -> list[tuple[Any, Any]]:
        """Every ``(key, value)`` pair."""
        try:
            data = self._http.call("GET", self._path)
        except errors.NotFound:
            return []
        return [(e["key"], e["value"]) for e in data["items"]]

    def keys(self) -> list[Any]:
        """Every key."""
        return [k for k, _ in self.entries()]

    def values(self) -> list[Any]:
        """Every value."""
        return [v for _, v in self.entries()]

    def to_dict(self) -> dict[Any, Any]:
        """The whole Map as a dict."""
        return dict(self.entries())

    def __len__(self) -> int:
        return len(self.entries())

    def size(self) -> int:
        """How many entries the Map holds."""
        return len(self)

    def clear(self) -> None:
        """Remove every entry."""
        with contextlib.suppress(errors.NotFound):
            self._http.call("DELETE", self._path)


class RemoteStream:
    """A named Stream over HTTP (JSON values)."""

    def __init__(self, http: Http, name: str, partitions: int | None = None) -> None:
        self.name = name
        self._http = http
        self._path = f"/streams/{_seg(name)}"
        self._partitions = partitions

    def publish(self, item: Any, key: Any = None) -> tuple[int, int]:
        """Append one item; returns its ``(partition, offset)``."""
        return self._append([item], key)[0]

    def publish_all(self, items: Iterable[Any], key: Any = None) -> list[tuple[int, int]]:
        """Append items in one transaction, all under ``key`` if given."""
        return self._append(list(items), key)

    def _append(self, items: list[Any], key: Any) -> list[tuple[int, int]]:
        params = {} if self._partitions is None else {"partitions": self._partitions}
        data = self._http.call("POST", self._path, params=params, json={"items": items, "key": key})
        return [(int(p), int(o)) for p, o in data["offsets"]]

    def _read(self, partition: int, offset: int, max_count: int) -> dict[str, Any]:
        query = {"partition": partition, "offset": offset, "limit": max_count}
        data: dict[str, Any] = self._http.call("GET", self._path, params=query)
        return data

    def read(self, partition: int, offset: int = 0, max_count: int = 1000) -> list[Any]:
        """Up to ``max_count`` items of ``partition`` from ``offset``. Raises: NotFound."""
        return [e["value"] for e in self._read(partition, offset, max_count)["items"]]

    def partition_count(self) -> int:
        """How many partitions the Stream has. Raises: NotFound."""
        return int(self._read(0, 0, 1)["partitions"])

    def end_offset(self, partition: int) -> int:
        """The offset the next item appended to ``partition`` will get."""
        return int(self._read(partition, 0, 1)["end_offset"])

    def is_closed(self) -> bool:
        """Whether the Stream has been closed."""
        return bool(self._read(0, 0, 1)["closed"])


class Client:
    """Headrace over HTTP: the embedded ``Client``'s interface against a ``headrace server``.

    Raises (from any call): the ``headrace.errors`` the server's problem names;
    ``StoreUnavailable`` when the server cannot be reached.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.url = url
        self._http = Http(url, token, timeout, http)
        self.jobs = RemoteJobs(self._http)
        self.job_types = RemoteJobTypes(self._http)
        self.job_groups = RemoteJobGroups(self._http)

    def whoami(self) -> dict[str, str]:
        """The tenant, user and role this client's token grants."""
        data: dict[str, str] = self._http.call("GET", "/whoami")
        return data

    def for_tenant(self, tenant_id: str, user_id: str | None = None) -> Client:
        """This client, if its token already grants ``tenant_id`` (a token fixes the tenant).

        Raises:
            PermissionDenied: the token is another tenant's.
        """
        me = self.whoami()
        if me["tenant_id"] != str(tenant_id) or (user_id and me["user_id"] != str(user_id)):
            msg = "a remote client's tenant and user come from its token; use another token"
            raise errors.PermissionDenied(msg)
        return self

    def get_list(self, name: str) -> RemoteList:
        """The named List."""
        return RemoteList(self._http, name)

    def get_map(self, name: str) -> RemoteMap:
        """The named Map (string keys)."""
        return RemoteMap(self._http, name)

    def get_stream(self, name: str, partitions: int | None = None) -> RemoteStream:
        """The named Stream; created with ``partitions`` partitions on first publish."""
        return RemoteStream(self._http, name, partitions)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.client.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["Client", "is_remote"]
