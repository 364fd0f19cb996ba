#!/bin/bash
# before (main's code: 205a8ce's src) and after (branch HEAD) alternately, the brief's command.
cd /work/wt/i16merge
for round in 3; do
  for which in before after; do
    if [ $which = before ]; then git checkout -q 205a8ce -- src; else git checkout -q HEAD -- src; fi
    git diff --stat HEAD -- src | tail -1
    echo "=== $which round $round $(date -u +%H:%M:%S) $(git rev-parse --short HEAD)"
    flock /work/wt/bench.lock /work/main/.venv/bin/python bench/engine.py --only W1 --repeat 3 --cpu --processes 3 > /tmp/i16/off_${which}_$round.txt 2>&1
    tail -25 /tmp/i16/off_${which}_$round.txt
  done
done
git checkout -q HEAD -- src
git status --short
