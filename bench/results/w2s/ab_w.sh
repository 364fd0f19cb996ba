#!/bin/bash
# A/B alternated on W1,W2,W3 at p=2 (regression check of the reports' path), under the lock.
out=/work/wt/w2s/bench/results/w2s/abw
mkdir -p $out
for i in $(seq 1 ${1:-3}); do
  for t in main w2s; do
    tree=/work/main; [ $t = w2s ] && tree=/work/wt/w2s
    echo "round $i $t start $(date -u +%T)" >> $out/log.txt
    (cd $tree && flock /work/wt/bench.lock env PYTHONPATH=$tree/src:$tree /work/main/.venv/bin/python bench/engine.py --only W1,W2,W3 --par 2 --repeat 3) > $out/$t-$i.txt 2>&1
  done
done
echo done >> $out/log.txt
