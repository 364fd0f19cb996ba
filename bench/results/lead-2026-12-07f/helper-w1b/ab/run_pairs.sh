#!/bin/bash
# usage: run_pairs.sh N ONLY TAG
N=$1; ONLY=$2; TAG=$3
for i in $(seq 1 $N); do
  for side in A B; do
    if [ $side = A ]; then tree=/work/main; else tree=/work/wt/w1b; fi
    out=/tmp/ab/$TAG-$i-$side.txt
    echo "$(date -u +%T) start $side $i load $(cut -d' ' -f1 /proc/loadavg)" >> /tmp/ab/$TAG.log
    (cd $tree && flock /work/wt/bench.lock env PYTHONPATH=$tree/src:$tree /work/main/.venv/bin/python bench/engine.py --only $ONLY --repeat 3 --cpu --processes 3 > $out 2>&1)
    echo "$(date -u +%T) end $side $i: $(grep -A20 'median across' $out | grep 'p=' | tr '\n' ' ')" >> /tmp/ab/$TAG.log
  done
done
