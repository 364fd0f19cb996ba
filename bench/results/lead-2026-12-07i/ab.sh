#!/bin/bash
# usage: ab.sh TREE_A TREE_B PAIRS  -> alternated A B B A drains
A=$1; B=$2; P=${3:-2}
for i in $(seq $P); do
  for T in $A $B $B $A; do
    r=$(TREE=$T WPATH=$T/src:$T flock /work/wt/bench.lock bash /tmp/lead/drain.sh 2>&1 | tail -1)
    echo "$(basename $T) $r"
  done
done
