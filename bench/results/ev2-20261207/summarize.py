"""Summary of the alternated A/B queue runs in this directory (base 98e75d3 vs ev2)."""

import glob
import json
import statistics
from pathlib import Path

HERE = Path(__file__).parent
for kind, phase, loop in (
    ("sqlite", "drain C=50", ("sqlite-loop", "drain batch=50")),
    ("postgresql", "drain C=8", ("pg-loop", "drain batch=50")),
):
    print(f"== {kind} {phase} (ratio = median Headrace / median {loop[0]} {loop[1]} of the run)")
    every: dict[str, dict[str, list[float]]] = {}
    for f in sorted(glob.glob(str(HERE / f"queue-{kind}-*.json"))):
        d = json.load(open(f))
        label = Path(f).stem.split("-")[2]
        hr = [r for r in d["runs"] if r["system"] == "headrace" and r["phase"] == phase]
        lp = [r for r in d["runs"] if r["system"] == loop[0] and r["phase"] == loop[1]]
        rates = [r["rate"] for r in hr]
        med, lmed = statistics.median(rates), statistics.median(r["rate"] for r in lp)
        cpu = [r["worker_cpu_us_per_job"] for r in hr]
        ev = {r["events_per_job"] for r in hr}
        ins = {r.get("inserted_per_job") for r in hr}
        e = every.setdefault(label, {"rate": [], "ratio": [], "cpu": []})
        e["rate"] += rates
        e["ratio"].append(med / lmed)
        e["cpu"] += cpu
        print(
            f"{Path(f).stem:28s} median {med:8,.0f} ratio {med / lmed:.3f}  samples "
            f"{', '.join(f'{x:,.0f}' for x in rates)}  loop {lmed:,.0f}  worker CPU us/job "
            f"{', '.join(f'{x:.0f}' for x in cpu)}  event rows/job {ev} pg inserted/job {ins}"
            f"  load {d['load1_start_end']}"
        )
    for label, e in sorted(every.items()):
        print(
            f"  {label:5s} all samples median {statistics.median(e['rate']):8,.0f}  median of run "
            f"ratios {statistics.median(e['ratio']):.3f} ({', '.join(f'{x:.3f}' for x in e['ratio'])})"
            f"  worker CPU us/job median {statistics.median(e['cpu']):.0f}"
        )
