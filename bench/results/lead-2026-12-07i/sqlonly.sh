#!/bin/bash
B=${1:-250}
cp /tmp/lead/sq/${TMPL:-tmpl}.db /tmp/lead/sq/so.db; rm -f /tmp/lead/sq/so.db-wal /tmp/lead/sq/so.db-shm
t0=$(date +%s.%N)
/work/main/.venv/bin/python /tmp/lead/sq/sqlonly.py /tmp/lead/sq/so.db $B > /tmp/lead/sq/so1.out &
/work/main/.venv/bin/python /tmp/lead/sq/sqlonly.py /tmp/lead/sq/so.db $B > /tmp/lead/sq/so2.out
wait
t1=$(date +%s.%N)
echo "batch $B jobs $(( $(cat /tmp/lead/sq/so1.out) + $(cat /tmp/lead/sq/so2.out) )) rate $(echo "50000 / ($t1 - $t0 - 0.05)" | bc)"
