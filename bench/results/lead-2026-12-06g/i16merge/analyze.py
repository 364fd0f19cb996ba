"""Phase durations (ms) of W1 p=2's end, from HR_TRACE marks; one dict per run."""
import re, statistics
def phases(lines):
    ev = []  # (t, pid, name, fields)
    for ts, pid, name in lines:
        parts = name.split()
        fields = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        ev.append((float(ts), pid, parts[0], fields))
    def first(pid, name, **kw):
        for t, p, n, f in ev:
            if (pid is None or p == pid) and n == name and all(f.get(k) == str(v) for k, v in kw.items()):
                return t
        return None
    srcend = {p: t for t, p, n, f in ev if n == "finish_start" and f.get("v") == "0"}
    (F, tf), (L, tl) = sorted(srcend.items(), key=lambda x: x[1])
    # partition of each worker: the 'to' of its local p
    part = {}
    for t, p, n, f in ev:
        if n == "p_recv" and f["from"] == f["to"]:
            part[p] = f["to"]
    pl, pf = part[L], part[F]
    end = first(None, "run_end")
    d = {}
    d["tail(F idle)"] = tl - tf
    d["L split"] = first(L, "split_done") - first(L, "flush_keyed")
    # sends on L after split, in order
    sends = [(t, f["to"]) for t, p, n, f in ev if p == L and n == "sent_p"]
    d["L local merge"] = first(L, "p_merged", **{"from": pl, "to": pl}) - first(L, "p_recv", **{"from": pl, "to": pl})
    t_sent_remote = [t for t, to in sends if to == pf][0]
    d["L split->remote sent"] = t_sent_remote - first(L, "split_done")
    d["transit+unpickle"] = first(F, "p_recv", **{"from": pl}) - t_sent_remote
    lm = first(L, "p_recv", **{"from": pf})
    d["L merge of F's"] = first(L, "p_merged", **{"from": pf}) - lm
    d["L got F's after L src end"] = lm - tl
    d["F merge"] = first(F, "p_merged", **{"from": pl}) - first(F, "p_recv", **{"from": pl})
    d["F on_end"] = first(F, "on_end_done", v=1) - first(F, "finish_start", v=1)
    d["F proxy write"] = first(F, "proxy_write_done") - first(F, "proxy_write")
    d["L on_end"] = first(L, "on_end_done", v=1) - first(L, "finish_start", v=1)
    d["L proxy write"] = first(L, "proxy_write_done") - first(L, "proxy_write")
    dones = [t for t, p, n, f in ev if n == "done_sent"]
    d["last done_sent->run_end"] = end - max(dones)
    flushes = []
    st = None
    for t, p, n, f in ev:
        if n == "driver_flush": st = t
        elif n == "driver_flush_done": flushes.append(t - st)
    d["parent flush total"] = sum(flushes)
    d["F ready (src end->done)"] = max(t for t, p, n, f in ev if p == F and n == "done_sent") - tf
    d["END: L src end->run_end"] = end - tl
    d["run_start->last worker_start"] = max(t for t, p, n, f in ev if n == "worker_start") - first(None, "run_start")
    d["run_start->first src end"] = tf - first(None, "run_start")
    return {k: v * 1000 for k, v in d.items()}
def summarize(runs):
    keys = list(runs[0])
    for k in keys:
        vals = [r[k] for r in runs]
        print(f"  {k:28s} median {statistics.median(vals):7.1f}  [{' '.join(f'{v:.1f}' for v in vals)}]")
