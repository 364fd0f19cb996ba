#!/bin/bash
# Alternated A/B of the queue drains: base (/work/wt/ev2base, 98e75d3) and ev2.
# Each run under the bench lock; PYTHONPATH set to the tree measured; run from that tree.
set -u
OUT=/work/wt/ev2/bench/results/ev2-20261207
PY=/work/main/.venv/bin/python
run() {  # run <label> <tree> <store> <tag>
    local label=$1 tree=$2 kind=$3 tag=$4
    local args
    if [ "$kind" = sqlite ]; then
        args="--n 20000 --repeat 3 --capacities 50 --stores sqlite --prefetch auto"
    else
        args="--n 10000 --repeat 3 --capacities 8 --stores postgresql --prefetch auto"
    fi
    echo "== $(date -u +%H:%M:%S) start $label $kind $tag ($tree @ $(git -C $tree rev-parse --short HEAD))" >> $OUT/log.txt
    (cd $tree && PYTHONPATH=$tree/src flock /work/wt/bench.lock $PY bench/queue.py $args \
        --out $OUT/queue-$kind-$label-$tag.json > $OUT/queue-$kind-$label-$tag.txt 2>&1)
    echo "== $(date -u +%H:%M:%S) end $label $kind $tag rc=$? load=$(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/log.txt
}
for pair in "$@"; do
    case $pair in
        s1) run base /work/wt/ev2base sqlite 1; run ev2 /work/wt/ev2 sqlite 1 ;;
        p1) run base /work/wt/ev2base postgresql 1; run ev2 /work/wt/ev2 postgresql 1 ;;
        s2) run ev2 /work/wt/ev2 sqlite 2; run base /work/wt/ev2base sqlite 2 ;;
        p2) run ev2 /work/wt/ev2 postgresql 2; run base /work/wt/ev2base postgresql 2 ;;
        s3) run base /work/wt/ev2base sqlite 3; run ev2 /work/wt/ev2 sqlite 3 ;;
        p3) run base /work/wt/ev2base postgresql 3; run ev2 /work/wt/ev2 postgresql 3 ;;
    esac
done
