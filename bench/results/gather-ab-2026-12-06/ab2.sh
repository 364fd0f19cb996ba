cd /tmp/lead/hx
for i in 1 2 3; do
for side in $( [ $((i%2)) = 1 ] && echo "main gather" || echo "gather main"); do
 if [ $side = main ]; then export SRC=/work/main/src; else export SRC=/work/wt/i16ev/src; fi
 echo "== $side $(uptime | sed 's/.*average//')"
 /work/main/.venv/bin/python hx.py 5000 ${KINDS:-record,noop} 2>&1 | grep -v "^{" | sed "s/^/$side /"
done; done
