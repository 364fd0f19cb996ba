import sys, os
sys.path[:0] = ["/work/main/src", "/work/main"]
from headrace import Client
from bench import jobs_noop
p = "/tmp/lead/sq/tmpl.db"
for s in ("", "-wal", "-shm"):
    if os.path.exists(p + s): os.remove(p + s)
with Client(store=f"sqlite:///{p}", run_workers=False) as c:
    c.jobs.schedule_many(jobs_noop.TYPE, [{}] * 50000)
