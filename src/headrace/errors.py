"""The one exception tree every Headrace layer raises.

::

    HeadraceError
    ├─ InvalidInput(ValueError)        .field            → 422
    │  ├─ PipelineDefinitionError      .stage
    │  └─ InvalidArchive               .entry   (a job archive refused whole)
    ├─ NotFound(LookupError)           .kind, .id        → 404
    │  └─ NoMatch(ValueError)          .filters  (a facade's ``get`` found nothing)
    ├─ Conflict                                          → 409
    │  ├─ IllegalTransition            .job_id, .current, .requested
    │  │  └─ IllegalJobState           (the Jet facade's name)
    │  └─ JobAlreadyExists
    ├─ PermissionDenied                                  → 403
    ├─ Unauthenticated                                   → 401
    ├─ NotSupported(NotImplementedError)  .issue  (a seed call Headrace cannot do yet)
    ├─ JobFailed                       .cause
    ├─ JobStopped                      raised inside a job by ``ctx.check()``
    ├─ TimeoutException(TimeoutError)
    └─ StoreError                      (__cause__ = the driver's error)
       ├─ StoreUnavailable
       └─ StoreClosed                  .url  (used after ``Store.close``) → 503
"""

from __future__ import annotations


class HeadraceError(Exception):
    """Base of every error Headrace raises on purpose.

    Every one pickles whole (its message and attributes), whatever its ``__init__``
    takes: an error raised in an engine worker process reaches the run's caller as
    itself, not as a ``TypeError`` from unpickling it.
    """

    def __reduce__(self) -> tuple[object, ...]:
        return _restore, (type(self), self.args, self.__dict__)


def _restore(
    cls: type[HeadraceError], args: tuple[object, ...], state: dict[str, object]
) -> object:
    """An error as ``HeadraceError.__reduce__`` pickled it, without calling its ``__init__``."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class InvalidInput(HeadraceError, ValueError):
    """Input that fails validation; ``field`` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class PipelineDefinitionError(InvalidInput):
    """A pipeline that cannot run as defined; ``stage`` names the stage."""

    def __init__(self, stage: str, message: str) -> None:
        self.stage = stage
        super().__init__(f"stage {stage!r}", message)


class InvalidArchive(InvalidInput):
    """A job archive that cannot be imported; ``entry`` names the part that was wrong.

    Nothing of such an archive is imported: ``entry`` is the ZIP entry (``jobs/0001.json``),
    or ``archive`` for the file as a whole (not a ZIP, truncated, not Headrace's).
    """

    def __init__(self, entry: str, message: str) -> None:
        self.entry = entry
        super().__init__("archive", message if entry == "archive" else f"{entry}: {message}")


class NotFound(HeadraceError, LookupError):
    """An object that does not exist (or belongs to another tenant)."""

    def __init__(self, kind: str, id: object) -> None:
        self.kind = kind
        self.id = id
        super().__init__(f"{kind} {id!r} not found")

    def __str__(self) -> str:
        # LookupError would otherwise quote the message like a KeyError.
        return f"{self.kind} {self.id!r} not found"


class NoMatch(NotFound, ValueError):
    """A facade collection's ``get(**filters)`` matched nothing.

    Also a ``ValueError``, which is what the Control Hub and watsonx SDKs raise there, so
    their users' ``except ValueError`` still works.
    """

    def __init__(self, kind: str, filters: dict[str, object]) -> None:
        self.filters = dict(filters)
        shown = ", ".join(f"{k}={v!r}" for k, v in self.filters.items())
        super().__init__(kind, shown)

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.filters.items())
        return f"no {self.kind} matches {shown or 'nothing'}"


class Conflict(HeadraceError):
    """A request that contradicts the current state of the store."""


class IllegalTransition(Conflict):
    """A status change the status machine does not allow."""

    def __init__(self, job_id: str, current: str, requested: str, reason: str = "") -> None:
        self.job_id = job_id
        self.current = str(current)
        self.requested = str(requested)
        self.reason = reason
        text = f"job {job_id}: cannot go from {self.current!r} to {self.requested!r}"
        super().__init__(f"{text} ({reason})" if reason else text)


class IllegalJobState(IllegalTransition):
    """The Jet facade's name for an illegal lifecycle call."""


class JobAlreadyExists(Conflict):
    """A job with this name is already active."""


class PermissionDenied(HeadraceError):
    """The caller may not do this."""


class Unauthenticated(HeadraceError):
    """The caller did not prove who it is."""


class NotSupported(HeadraceError, NotImplementedError):
    """A call a facade offers that Headrace cannot carry out yet; ``issue`` says where."""

    def __init__(self, what: str, issue: int, detail: str = "") -> None:
        self.what = what
        self.issue = issue
        text = f"{what} is not supported yet (issue {issue})"
        super().__init__(f"{text}: {detail}" if detail else text)


class JobFailed(HeadraceError):
    """A job ended in failure; ``cause`` is its recorded error."""

    def __init__(self, job_id: str, status: str, cause: str | None) -> None:
        self.job_id = job_id
        self.status = status
        self.cause = cause
        super().__init__(f"job {job_id} ended {status}: {cause or 'no error recorded'}")


class JobStopped(HeadraceError):
    """Raised inside a running job when it must stop (cancel, suspend or timeout)."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        self.reason = reason
        self.detail = detail
        #: A pipeline job snapshots its state before stopping for this reason.
        self.take_snapshot = reason == "suspend"
        super().__init__(f"job must stop: {reason}" + (f" ({detail})" if detail else ""))


class TimeoutException(HeadraceError, TimeoutError):
    """A wait ran past its timeout."""


class StoreError(HeadraceError):
    """The store refused or failed an operation; ``__cause__`` holds the driver's error."""


class StoreUnavailable(StoreError):
    """The store cannot be reached."""


class StoreClosed(StoreError):
    """The store was used after ``Store.close``: a thread outlived its process's shutdown.

    Raised before any connection is opened, so the late use leaves no session behind.
    Not a ``StoreUnavailable``: retrying cannot help, and loops that retry on that must not
    spin on a closed store.
    """

    def __init__(self, url: str) -> None:
        #: Which store (its URL without the password); not in the message, which an HTTP
        #: answer carries to clients.
        self.url = url
        super().__init__("the store is closed: nothing may use it after Store.close()")
