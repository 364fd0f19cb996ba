import sys, os, time, statistics, resource, threading
exec(open("/tmp/lead/micro/jobpath.py").read().split("for _ in range(5): one_round()")[0])
n=int(sys.argv[1])
done=threading.Event(); count=[0]
orig=w.reports.queue
def q(write):
    orig(write)
    count[0]+=1
    if count[0]==N: done.set()
w.reports.queue=q
ths=[threading.Thread(target=w._slot, args=("bench",), daemon=True) for _ in range(n)]
for t in ths: t.start()
def rnd():
    time.sleep(0.005)
    cl = rows(); count[0]=0; done.clear()
    r0=resource.getrusage(resource.RUSAGE_SELF)
    t1 = time.perf_counter()
    w._begin(cl)
    done.wait()
    t2 = time.perf_counter()
    r1=resource.getrusage(resource.RUSAGE_SELF)
    w.reports.take()
    return t2 - t1, r1.ru_nvcsw-r0.ru_nvcsw, r1.ru_nivcsw-r0.ru_nivcsw, (r1.ru_utime-r0.ru_utime+r1.ru_stime-r0.ru_stime)
for _ in range(5): rnd()
R=[rnd() for _ in range(40)]
print(n, "µs/job", round(statistics.median(r[0] for r in R)/N*1e6,1), "vcsw/round", statistics.median(r[1] for r in R), "ivcsw", statistics.median(r[2] for r in R), "cpu µs/job", round(statistics.median(r[3] for r in R)/N*1e6,1))
