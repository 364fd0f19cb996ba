#!/usr/bin/env bash
# Headrace beside the peer job queues of the shared harness (/work/shared/bench-peers/queues).
#
#   bash bench/peers/run.sh                                   # RUNS=3 N=20000 SECS=20, 3 systems
#   RUNS=1 N=2000 SECS=5 bash bench/peers/run.sh              # quick look
#   RUNS=1 N=200 SECS=2 PHASES=noop-c1,sleep1-c8 bash bench/peers/run.sh   # smoke test
#   SYSTEMS="pg-skiplocked-batch headrace-pg sqlite-loop-batch headrace-sqlite" bash bench/peers/run.sh
#
# The harness folder may be read-only and is reset between sessions, so nothing is added
# there: it is copied to a temp folder, our adapter (a_headrace.py + headrace_jobs.py) is
# dropped in, and the copy is patched to know the systems headrace-pg / headrace-sqlite
# (bench.py SYSTEMS, run_all.sh python_for, report.py ORDER), to pass PHASES to bench.py, and
# to ask for Redis only when a system in SYSTEMS needs it.  Then its run_all.sh runs.
#
# Env (all optional):
#   RUNS N SECS RATE SYSTEMS   passed to run_all.sh (defaults 3, 20000, 20, 200,
#                              "pg-skiplocked-batch headrace-pg headrace-sqlite")
#   PHASES      bench.py --phases (default: all: noop-c1,sleep1-c1,noop-c8,sleep1-c8,latency)
#   HR_PYTHON   the Python with headrace installed (default: this repo's .venv)
#   VENV        the harness venv (default /tmp/queues-venv if it exists, else this repo's
#               .venv, which has psycopg: enough for pg-skiplocked-* and sqlite-loop-batch)
#   QB_PGDB     database the harness drops and recreates every phase (default qbench_hr, so
#               as not to drop another session's "qbench")
#   QB_STATE    records, worker logs, SQLite files (default: a folder in the temp copy)
#   OUTDIR      results (default bench/results/peers-<date>[-<time>])
#   QB_HARNESS  the harness to copy (default /work/shared/bench-peers/queues)
#   KEEP=1      keep the temp copy
#   HR_PREFETCH Headrace workers' --prefetch (default auto; 32 at C=8 is Celery's default)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
HARNESS=${QB_HARNESS:-/work/shared/bench-peers/queues}
[ -f "$HARNESS/run_all.sh" ] || { echo "no harness at $HARNESS" >&2; exit 2; }

export RUNS=${RUNS:-3} N=${N:-20000} SECS=${SECS:-20} RATE=${RATE:-200}
export SYSTEMS=${SYSTEMS:-"pg-skiplocked-batch headrace-pg headrace-sqlite"}
export PHASES=${PHASES:-}
export HR_PYTHON=${HR_PYTHON:-$ROOT/.venv/bin/python}
export HR_PREFETCH=${HR_PREFETCH:-auto}
if [ -z "${VENV:-}" ]; then
  if [ -x /tmp/queues-venv/bin/python ]; then VENV=/tmp/queues-venv; else VENV=$ROOT/.venv; fi
fi
export VENV
export QB_PGDB=${QB_PGDB:-qbench_hr}
"$HR_PYTHON" -c "import headrace, psycopg" || { echo "HR_PYTHON=$HR_PYTHON lacks headrace/psycopg" >&2; exit 2; }

WORK=$(mktemp -d /tmp/hr-peers.XXXXXX)
chmod 755 "$WORK"  # services.sh may run PostgreSQL as user postgres under QB_STATE
cleanup() {
  # the harness leaves its last phase's database behind: drop it (best effort)
  "$HR_PYTHON" -c '
import os, psycopg
host, port, db = (os.environ.get(k, d) for k, d in
                  (("QB_PGHOST", "127.0.0.1"), ("QB_PGPORT", "5432"), ("QB_PGDB", "qbench_hr")))
with psycopg.connect(f"postgresql://postgres@{host}:{port}/postgres", autocommit=True) as conn:
    conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
' 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
cp -r "$HARNESS/." "$WORK/"
chmod -R u+w "$WORK"
rm -rf "$WORK/results"
cp "$HERE/a_headrace.py" "$HERE/headrace_jobs.py" "$WORK/"
export QB_STATE=${QB_STATE:-$WORK/state}
mkdir -p "$QB_STATE"

need_redis=0
for s in $SYSTEMS; do
  case "$s" in celery-*|rq|rq-simple|dramatiq-*|huey-redis|saq-redis|arq) need_redis=1 ;; esac
done
export QB_NEED_REDIS=$need_redis

"$HR_PYTHON" - "$WORK" <<'PY'
import pathlib
import sys

work = pathlib.Path(sys.argv[1])


def patch(name: str, old: str, new: str, required: bool = True) -> None:
    path = work / name
    text = path.read_text()
    if old not in text:
        if required:
            sys.exit(f"run.sh: cannot patch {name}: {old!r} not found (harness changed?)")
        print(f"run.sh: {name} not patched ({old!r} not found)", file=sys.stderr)
        return
    path.write_text(text.replace(old, new, 1))


patch("bench.py", "\ndef make_adapter(", '\nSYSTEMS.update({\n'
      '    "headrace-pg": ("a_headrace", {"store": "pg"}),\n'
      '    "headrace-sqlite": ("a_headrace", {"store": "sqlite"}),\n'
      '})\n\n\ndef make_adapter(')
patch("run_all.sh", '    *) echo "$VENV/bin/python" ;;',
      '    headrace-*) echo "$HR_PYTHON" ;;\n    *) echo "$VENV/bin/python" ;;')
patch("run_all.sh", '--out "$OUTDIR/run$r/$s.json"',
      '--out "$OUTDIR/run$r/$s.json" ${PHASES:+--phases "$PHASES"}')
patch("run_all.sh", '! redis-cli -h 127.0.0.1 -p "${QB_REDISPORT:-6379}" ping >/dev/null 2>&1',
      '{ [ "${QB_NEED_REDIS:-1}" = 1 ] && ! redis-cli -h 127.0.0.1 -p "${QB_REDISPORT:-6379}" '
      'ping >/dev/null 2>&1; }', required=False)
patch("report.py", '"pg-skiplocked-1", ', '"pg-skiplocked-1", "headrace-pg", ', required=False)
patch("report.py", '"sqlite-loop-batch", ', '"sqlite-loop-batch", "headrace-sqlite", ',
      required=False)
PY

if [ -z "${OUTDIR:-}" ]; then
  OUTDIR=$ROOT/bench/results/peers-$(date +%F)
  [ -e "$OUTDIR" ] && OUTDIR=$OUTDIR-$(date +%H%M%S)
fi
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
export OUTDIR
{
  echo "date: $(date -Is)"
  echo "headrace: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "harness: $HARNESS"
  echo "RUNS=$RUNS N=$N SECS=$SECS RATE=$RATE PHASES=${PHASES:-all}"
  echo "SYSTEMS=$SYSTEMS"
  echo "VENV=$VENV HR_PYTHON=$HR_PYTHON QB_PGDB=$QB_PGDB"
  echo "nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUTDIR/meta.txt"
echo "results -> $OUTDIR" >&2

status=0
bash "$WORK/run_all.sh" || status=$?
if [ -d "$QB_STATE/logs" ]; then cp -r "$QB_STATE/logs" "$OUTDIR/worker-logs"; fi
for f in "$OUTDIR"/run*/stderr.log; do
  if [ -f "$f" ] && grep -q "Traceback" "$f"; then echo "!! tracebacks in $f" >&2; fi
done
exit $status
