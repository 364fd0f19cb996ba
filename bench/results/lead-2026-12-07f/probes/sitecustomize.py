import gc, time, atexit, os, sys, threading
_t = {}
_acc = [0.0, 0.0, 0.0]; _n = [0, 0, 0]
def cb(phase, info):
    if phase == "start":
        _t[threading.get_ident()] = time.perf_counter()
    else:
        g = info["generation"]; _acc[g] += time.perf_counter() - _t.pop(threading.get_ident(), time.perf_counter()); _n[g] += 1
gc.callbacks.append(cb)
if os.environ.get("GCFREEZE"):
    def fr():
        time.sleep(float(os.environ["GCFREEZE"])); gc.freeze()
    threading.Thread(target=fr, daemon=True).start()
if os.environ.get("GCTHRESH"):
    gc.set_threshold(*map(int, os.environ["GCTHRESH"].split(",")))
def report():
    with open(f"/tmp/lead/gcexp/gc-{os.getpid()}.txt", "w") as f:
        f.write(f"{sys.argv[:3]} n={_n} sec={[round(a,3) for a in _acc]} frozen={gc.get_freeze_count()}\n")
atexit.register(report)
if os.environ.get("SWITCH"):
    sys.setswitchinterval(float(os.environ["SWITCH"]))
