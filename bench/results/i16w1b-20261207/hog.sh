#!/bin/bash
# drive.py base/new alternating while one busy-loop process competes for the 2 vCPUs
/work/main/.venv/bin/python -c "while True: pass" &
HOG=$!
for t in base new base new; do src=/tmp/i16w1b-base/src; [ $t = new ] && src=/work/wt/i16w1b/src; echo "== $t (with a busy-loop hog) $(SRC=$src PYTHONPATH=$src /work/main/.venv/bin/python /tmp/i16w1b-drive.py 3 2 | tail -1)"; done
kill $HOG
