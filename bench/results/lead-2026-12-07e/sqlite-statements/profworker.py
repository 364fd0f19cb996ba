"""A `headrace worker` whose pump thread and slot threads are profiled (cProfile), dumped at exit."""
import cProfile, pstats, sys, os, atexit, threading, signal
sys.path.insert(0, "/work/main")
from headrace.scheduler import worker as W
profs = []
orig_pump, orig_slot = W.Worker._pump, W.Worker._slot
def pump(self):
    p = cProfile.Profile(); profs.append(("pump", p)); p.enable()
    try: orig_pump(self)
    finally: p.disable()
def slot(self, q):
    p = cProfile.Profile(); profs.append(("slot", p)); p.enable()
    try: orig_slot(self, q)
    finally: p.disable()
W.Worker._pump, W.Worker._slot = pump, slot
def dump():
    for kind in ("pump", "slot"):
        ps = [p for k, p in profs if k == kind]
        if not ps: continue
        st = pstats.Stats(ps[0])
        for p in ps[1:]: st.add(p)
        st.dump_stats(f"/tmp/lead/prof/{kind}.pstats")
atexit.register(dump)
from headrace.cli.main import main
sys.argv = ["headrace"] + sys.argv[1:]
main()
