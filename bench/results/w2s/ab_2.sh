#!/bin/bash
# A/B alternated: main and w2s, one fresh process each per round, under the bench lock.
out=/work/wt/w2s/bench/results/w2s/ab_2_2
mkdir -p $out
for i in $(seq 1 ${1:-8}); do
  for t in main w2s; do
    tree=/work/main; [ $t = w2s ] && tree=/work/wt/w2s
    echo "round $i $t start $(date -u +%T)" >> $out/log.txt
    (cd $tree && flock /work/wt/bench.lock env PYTHONPATH=$tree/src:$tree /work/main/.venv/bin/python bench/engine.py --only W2S --repeat 3) > $out/$t-$i.txt 2>&1
  done
done
echo done >> $out/log.txt
