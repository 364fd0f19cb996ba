import sys, collections, re
self_c = collections.Counter(); incl = collections.Counter(); thread = collections.Counter()
total = 0
for line in open(sys.argv[1]):
    line = line.rstrip()
    if not line: continue
    stack, n = line.rsplit(" ", 1); n = int(n)
    frames = stack.split(";")
    total += n
    thread[frames[0][:60]] += n
    self_c[frames[-1]] += n
    seen = set()
    for f in frames[1:]:
        key = re.sub(r"\s*\(.*?:\d+\)", "", f) + " " + (re.search(r"\((.*?):\d+\)", f).group(1).split("/")[-1] if re.search(r"\((.*?):\d+\)", f) else "")
        if key not in seen:
            incl[key] += n; seen.add(key)
print("total", total)
print("-- threads"); [print(f"{v:6d} {k}") for k, v in thread.most_common(12)]
print("-- self"); [print(f"{v:6d} {k[:150]}") for k, v in self_c.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 30)]
print("-- inclusive"); [print(f"{v:6d} {k[:150]}") for k, v in incl.most_common(int(sys.argv[3]) if len(sys.argv) > 3 else 60)]
