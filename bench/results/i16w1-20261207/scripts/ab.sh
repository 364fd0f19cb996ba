#!/bin/bash
# alternating before/after rounds of bench/engine.py --only W1 --repeat 3 --cpu, each a fresh process
OUT=/work/wt/i16w1/bench/results/i16w1-20261207
AFTER=${AFTER:-/work/wt/i16w1}
for r in $(seq 1 ${ROUNDS:-3}); do
  for side in before after; do
    if [ $side = before ]; then T=/tmp/i16base; else T=$AFTER; fi
    echo "== round $r $side $(date +%T) $(cat /proc/loadavg)" >> $OUT/ab-$TAG.log
    flock /work/wt/bench.lock env PYTHONPATH=$T/src /work/main/.venv/bin/python $T/bench/engine.py --only W1 --repeat 3 --cpu >> $OUT/ab-$TAG.log 2>&1
  done
done
echo "== end $(date +%T)" >> $OUT/ab-$TAG.log
