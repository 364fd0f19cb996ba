import json, glob, os, sys
d = sys.argv[1]
files = sorted(glob.glob(d + "/*.json"))
evs = []
for f in files:
    if f.endswith("summary.json"): continue
    tag = os.path.basename(f).split("-")[0]
    for t, c, name, kw in json.load(open(f)):
        evs.append((t, c, tag, name, kw))
parents = [f for f in files if "/parent-" in f]
for pf in parents:
    pev = json.load(open(pf))
    label = os.path.basename(pf).split("-")[1:3]
    t0 = [e for e in pev if e[2] == "p_run0"][0]; t1 = [e for e in pev if e[2] == "p_run1"][0]
    T0, T1 = t0[0], t1[0]
    par = t0[3]["par"]
    print(f"== {label} par={par} wall {T1-T0:.3f} parent cpu {t1[1]-t0[1]:.3f}")
    for e in pev:
        if e[2] in ("p_dumped", "p_started", "p_parent_done"):
            print(f"   parent {e[2]:14s} {e[0]-T0:7.3f}")
    sinks = [e for e in pev if e[2] == "p_recv" and e[3]["t"] == "SinkOutput"]
    if sinks: print(f"   parent SinkOutput x{len(sinks)} first {sinks[0][0]-T0:.3f} last {sinks[-1][0]-T0:.3f}")
    for e in pev:
        if e[2] == "p_recv" and e[3]["t"] in ("Done", "Ended", "Failed"):
            print(f"   parent recv {e[3]['t']} w{e[3]['w']} {e[0]-T0:7.3f}")
    ws = [e for e in evs if e[2].startswith("w") and T0 <= e[0] <= T1]
    for tag in sorted({e[2] for e in ws}):
        W = [e for e in ws if e[2] == tag]
        def first(n): 
            x = [e for e in W if e[3] == n]; return x[0] if x else None
        st, dn = first("start_msg"), first("done_sent")
        claims = [e for e in W if e[3] == "claim" and e[4]["ticket"] < e[4]["n"]]
        wait = 0.0; w0 = None
        for e in W:
            if e[3] == "wait0": w0 = e[0]
            elif e[3] == "wait1" and w0 is not None: wait += e[0] - w0; w0 = None
        fin_src = [e for e in W if e[3] == "finish0" and e[4]["v"] == 0]
        print(f"   {tag}: start {st[0]-T0:.3f} ready {first('loop_ready')[0]-T0:.3f} claims {len(claims)} "
              f"first {claims[0][0]-T0:.3f} last {claims[-1][0]-T0:.3f} src_end {fin_src[0][0]-T0 if fin_src else -1:.3f} "
              f"done {dn[0]-T0:.3f} cpu {dn[1]-st[1]:.3f} blocked {wait:.3f}")
        for e in W:
            if e[3] in ("send0","send1","recv","partials0","partials1","partials_emitted","sink0","sink1","finish0","finish1","worker_done"):
                print(f"      {e[0]-T0:7.3f} cpu {e[1]-st[1]:6.3f} {e[3]} {e[4]}")
