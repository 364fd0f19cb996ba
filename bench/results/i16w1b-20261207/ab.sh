#!/bin/bash
# usage: ab.sh label tree [env...] ; runs W1 once under the lock, appends to /tmp/i16w1b-ab.log
label=$1; tree=$2; shift 2
out=$(cd $tree && env "$@" PYTHONPATH=$tree/src flock /work/wt/bench.lock /work/main/.venv/bin/python bench/engine.py --only ${ONLY:-W1} --repeat 3 --cpu 2>&1)
echo "$out" > /tmp/i16w1b-last-$label.log
echo "$out" | grep -E "^\| (W[0-9S]*|C[0-9][FL]) \| " | sed "s/^/$(date +%H:%M:%S) $label /" >> /tmp/i16w1b-ab.log
