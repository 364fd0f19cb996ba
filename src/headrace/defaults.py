"""Every tunable in one place, with the reason for its value."""

from __future__ import annotations

import os

#: The embedded store: one SQLite file under the working directory.
SQLITE_PATH = ".headrace/headrace.db"

#: Tenant and user of a client that names none (single-tenant, embedded use).
TENANT_ID = "00000000-0000-0000-0000-000000000000"
USER_ID = "00000000-0000-0000-0000-000000000000"

#: The machine's cores: the pipeline queues' default capacities follow them.
CPUS = os.cpu_count() or 1

#: Batch pipeline jobs have their own queue, so they neither wait behind seed 004's
#: ``compute`` jobs nor block them; one slot per core (at least two), since a batch
#: pipeline keeps a core busy while it runs.
PIPELINE_QUEUE = "pipelines"
#: Streaming pipeline jobs run until canceled: on a queue of their own they cannot take
#: the slots batch work needs. Mostly waiting for input, so two slots per core (at least 4).
STREAM_QUEUE = "streams"

#: Queues every installation has, with seed 004's capacities (jobs at once per worker)
#: and the pipeline queues'. README "Sizing queues" says how to change them.
QUEUES: dict[str, int] = {
    "compute": 1,
    "maintenance": 5,
    "download": 10,
    PIPELINE_QUEUE: max(2, CPUS),
    STREAM_QUEUE: max(4, 2 * CPUS),
}
DEFAULT_QUEUE = "compute"

#: Job defaults when neither the job type nor the caller sets them.
TIMEOUT_SEC = 3600
MAX_RETRIES = 0
RETRY_DELAY_SEC = 10

#: A claim is a lease this long; a worker renews it every third of it, so a job is
#: reclaimed within about LEASE_SEC of its worker dying, whatever the job's length.
LEASE_SEC = 30.0

#: A job whose worker dies is put back this many times even if it allows fewer retries:
#: a crashed worker is not the job's failure, but a job that keeps killing its workers
#: must end. The reaper counts each lost lease as an attempt.
LEASE_LOSSES_ALLOWED = 5

#: How often a worker looks for cancel/suspend requests on the jobs it runs.
CONTROL_POLL_SEC = 0.25

#: How long a Jet control call waits for a job on its way to a status (``suspending``) to
#: get there before deciding (model/control.py): a suspension lands within a control poll
#: plus the snapshot, ``KILL_GRACE_SEC`` for a stuck one, a lease for a dead worker.
CONTROL_WAIT_SEC = 20.0

#: The longest an exactly-once pipeline's output waits to be seen: its List, Map and
#: Stream writes commit only with a snapshot, so one is taken at least this often,
#: whatever the (Jet-style, 10 s) snapshot interval. ``JobConfig.output_interval_ms``.
OUTPUT_INTERVAL_MS = 1000

#: How long a worker may hold finished jobs' writes before flushing them in one batch.
FLUSH_INTERVAL_SEC = 0.01

#: A round that finds an attempt's end queued while others still run waits this long after
#: each end for the next one (and ``GATHER_MAX_SEC`` in all), so attempts that end
#: together share one round rather than splitting the slots into groups that each pay a
#: round (see ``scheduler.gather``).
GATHER_QUIET_SEC = 0.0005
GATHER_MAX_SEC = 0.002

#: The reaper and retry promoter run this often (one worker at a time does the work).
MAINTENANCE_INTERVAL_SEC = 1.0

#: PostgreSQL ends a session left idle inside a transaction this long, releasing its
#: locks (``idle_in_transaction_session_timeout``): a process frozen mid-transaction
#: (SIGSTOP, a debugger, a swapped-out VM) cannot hold rows others need for longer. Our
#: transactions never wait on Python work for anywhere near this.
TRANSACTION_IDLE_MAX_SEC = 5.0

#: PostgreSQL cancels a statement running (or waiting for a lock) this long
#: (``statement_timeout``); the largest bulk write of a snapshot takes seconds.
STATEMENT_MAX_SEC = 120.0

#: Idle polling when the database cannot wake us (SQLite): start fast, back off to the cap.
IDLE_POLL_MIN_SEC = 0.002
IDLE_POLL_MAX_SEC = 0.1

#: After a cooperative stop is asked of a job run in a child process, kill it this late.
KILL_GRACE_SEC = 5.0

#: Largest page ``jobs.list`` returns.
MAX_PAGE_LIMIT = 1000
#: Most copies one ``jobs.duplicate`` makes (in one transaction).
MAX_COPIES = 10_000

#: Most jobs one ``POST /jobs/batch`` schedules (the body's size limit may come first).
MAX_BATCH_JOBS = 10_000

#: PostgreSQL channel that wakes idle workers when jobs arrive.
NOTIFY_CHANNEL = "headrace_jobs"

#: Largest request body the REST API accepts: a job's params travel in it.
MAX_BODY_BYTES = 1024 * 1024

#: Largest body of ``POST /pipeline-jobs``: a pipeline travels pickled, with the items of its
#: ``from_list`` sources, so it may be much larger than a job's params.
MAX_PIPELINE_BODY_BYTES = 32 * 1024 * 1024

#: Largest job archive ``jobs.import`` reads (and ``POST /job-definitions/import`` accepts).
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024

#: Most bytes one archive entry may unpack to (a pickled pipeline, as large as its body).
MAX_ARCHIVE_ENTRY_BYTES = MAX_PIPELINE_BODY_BYTES

#: Most bytes all entries of an archive may unpack to together (a zip bomb stops here).
MAX_ARCHIVE_UNPACKED_BYTES = 256 * 1024 * 1024

#: Most jobs one archive exports or imports.
MAX_ARCHIVE_JOBS = 1000

#: Longest a long-poll (``GET /jobs/{id}/wait``) holds its request: under the graceful
#: shutdown a server allows, and well under the HTTP timeouts of proxies.
LONG_POLL_MAX_SEC = 30.0

#: What the remote client asks each long-poll to hold, looping until its own timeout.
LONG_POLL_SEC = 10.0

#: Seconds an HTTP request of the remote client may take beyond the time the server holds it.
HTTP_TIMEOUT_SEC = 30.0

#: Seconds the server keeps an idle HTTP connection open. Well above httpx's 5 s pool
#: expiry, so the client always drops an idle connection first: at uvicorn's default of
#: 5 s the two raced, and a request sent on a connection the server was closing failed
#: with "connection reset by peer".
SERVER_KEEP_ALIVE_SEC = 75

#: Longest log line a job's log keeps (characters); a longer one is cut, saying so. A job
#: that logs its input by mistake must not fill the store or a page of ``/logs``.
MAX_LOG_LINE_CHARS = 64 * 1024

#: Longest error text kept for an attempt (a traceback with the user's frames first).
MAX_ERROR_CHARS = 64 * 1024

#: Longest ``ctx.progress(details=...)`` text (characters): it is rewritten at every report.
MAX_PROGRESS_DETAILS_CHARS = 10_000

#: A schedule's tick handled more than this late counts as missed (its misfire policy
#: decides): a maintenance takeover after a holder died (about a lease) is not a miss.
SCHEDULE_GRACE_SEC = 60.0

#: Most ticks of one schedule fired (``run_all``) or counted as missed in one round of
#: the ticker; a longer backlog goes on next round.
SCHEDULE_CATCH_UP = 100

#: Most due schedules the ticker handles in one round.
SCHEDULE_BATCH = 100

#: Firings kept per schedule (the newest); older ones are forgotten as new ones come.
SCHEDULE_FIRINGS_KEPT = 1000

#: Engine worker processes an embedded client starts in the background, ready for its
#: first ``client.run`` above parallelism 1 (0: none; ``HEADRACE_WARM_POOL=0`` also).
WARM_POOL_WORKERS = 2

#: Net allocations of tracked objects between two young collections in a process
#: Headrace owns that serves for hours (``headrace worker``); Python's default is 700.
#: Each claimed job allocates a few dozen objects that live for its round, so at 700 a
#: worker at capacity 50 collected every few dozen jobs and promoted the round's live
#: objects, which then set off full collections that freed nothing (``collector``).
SERVING_GC_YOUNG_THRESHOLD = 10_000
