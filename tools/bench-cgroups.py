#!/usr/bin/env python3
"""bench-cgroups: the cgroup figures of tools/bench (run as root).

cycle: the cost of one sandbox cgroup, per step, as sandboxctl does it:
  create (mkdir in each hierarchy), limit (memory, swap, pids, cpu),
  populate (as sandboxctl places a sandbox's init: on v1 the parent opens
  each hierarchy's `tasks` file and the single-threaded child writes "0"
  to each, itself; on v2 the child is born in the cgroup by clone3 with
  CLONE_INTO_CGROUP, timed against the same clone3 without it; fork itself
  is not counted) and remove (kill, rmdir), back to back and sporadic
  (after an idle gap). Python adds a few microseconds per step.
many: N sleeping sandboxes started at once with sandboxctl, bubblewrap and
  crun: time until every one has signalled readiness (a line on a fifo),
  and memory per sandbox beyond the payload (`sleep`): the PSS of the
  runtime's own processes, and the drop of MemAvailable against as many
  bare sleeps. Every process started is killed by pid, every cgroup made
  is removed.

usage: bench-cgroups.py cycle N GAP_MS
       bench-cgroups.py many N NAME[,NAME...] SANDBOXCTL BUNDLE_DIR WORKDIR
       (names: sleep, sandboxctl, bwrap, crun; crun on a hybrid host must run
       in a mount namespace that hides /sys/fs/cgroup/unified, sandboxctl
       must not)
Prints one JSON object.
"""
import ctypes, json, os, signal, statistics, struct, subprocess, sys, time

V2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def own_cgroup(ctrl):
    for line in open("/proc/self/cgroup"):
        _, ctrls, path = line.rstrip("\n").split(":", 2)
        if (V2 and ctrls == "") or ctrl in ctrls.split(","):
            return path
    return "/"


def hierarchies(name):
    """(controller, dir) pairs for a cgroup `name` under the bench parent."""
    if V2:
        return [("v2", "/sys/fs/cgroup/sandboxctl-bench-cycle/" + name)]
    out = []
    for c in ("pids", "memory", "cpu", "cpuacct", "freezer"):
        base = "/sys/fs/cgroup/" + c
        if c == "memory":
            base += own_cgroup("memory").rstrip("/")
        out.append((c, base + "/sandboxctl-bench-cycle/" + name))
    return out


def write(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


LIMITS_V2 = [("memory.max", "134217728"), ("memory.swap.max", "0"), ("pids.max", "100"),
             ("cpu.max", "50000 100000")]
LIMITS_V1 = {"memory": [("memory.limit_in_bytes", "134217728")], "pids": [("pids.max", "100")],
             "cpu": [("cpu.cfs_period_us", "100000"), ("cpu.cfs_quota_us", "50000")]}


LIBC = ctypes.CDLL(None, use_errno=True)
SYS_CLONE3 = 435
CLONE_INTO_CGROUP = 0x200000000


def clone3_ns(cgfd):
    """clone3 a child that exits at once, into cgroup directory cgfd when
    cgfd >= 0; the parent's time in the call, in ns."""
    flags = CLONE_INTO_CGROUP if cgfd >= 0 else 0
    args = struct.pack("=11Q", flags, 0, 0, 0, signal.SIGCHLD, 0, 0, 0, 0, 0,
                       cgfd if cgfd >= 0 else 0)
    buf = ctypes.create_string_buffer(args, len(args))
    t0 = time.perf_counter_ns()
    pid = LIBC.syscall(ctypes.c_long(SYS_CLONE3), buf, ctypes.c_size_t(len(args)))
    t1 = time.perf_counter_ns()
    if pid == 0:
        os._exit(0)
    if pid < 0:
        raise OSError(ctypes.get_errno(), "clone3")
    os.waitpid(pid, 0)
    return t1 - t0


def populate_v2(d):
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        into = clone3_ns(fd)
    finally:
        os.close(fd)
    return max(0, into - clone3_ns(-1)), None


def populate_v1(dirs):
    """The parent opens the tasks files, the child writes 0 to each (timed
    by the child itself) and waits; returns (ns, pid of the waiting child)."""
    t0 = time.perf_counter_ns()
    fds = [os.open(d + "/tasks", os.O_WRONLY | os.O_CLOEXEC) for _, d in dirs]
    t1 = time.perf_counter_ns()
    r, w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.close(done_r)
        c0 = time.perf_counter_ns()
        for fd in fds:
            os.write(fd, b"0")
        c1 = time.perf_counter_ns()
        os.write(done_w, struct.pack("=Q", c1 - c0))
        os.read(r, 1)
        os._exit(0)
    for fd in fds:
        os.close(fd)
    os.close(r)
    os.close(done_w)
    child_ns = struct.unpack("=Q", os.read(done_r, 8))[0]
    os.close(done_r)
    return (t1 - t0) + child_ns, (pid, w)


def cycle_once(i):
    dirs = hierarchies("c%d" % i)
    t = {}
    t0 = time.perf_counter_ns()
    for _, d in dirs:
        os.mkdir(d)
    t1 = time.perf_counter_ns()
    if V2:
        for f, v in LIMITS_V2:
            write(dirs[0][1] + "/" + f, v)
    else:
        for c, d in dirs:
            for f, v in LIMITS_V1.get(c, []):
                write(d + "/" + f, v)
    t2 = time.perf_counter_ns()
    populate, child = populate_v2(dirs[0][1]) if V2 else populate_v1(dirs)
    t4 = time.perf_counter_ns()
    if child:
        os.kill(child[0], signal.SIGKILL)
        os.waitpid(child[0], 0)
        os.close(child[1])
    for _, d in reversed(dirs):
        for _ in range(1000):
            try:
                os.rmdir(d)
                break
            except OSError:
                time.sleep(0.0005)
    t5 = time.perf_counter_ns()
    return {"create": t1 - t0, "limit": t2 - t1, "populate": populate, "remove": t5 - t4,
            "total": (t1 - t0) + (t2 - t1) + populate + (t5 - t4)}


def cycle(n, gap_ms):
    parents = {os.path.dirname(d) for _, d in hierarchies("x")}
    made = [p for p in parents if not os.path.isdir(p)]
    for p in made:
        os.mkdir(p)
    if V2:
        top = "/sys/fs/cgroup/sandboxctl-bench-cycle/cgroup.subtree_control"
        write(top, "+memory +pids +cpu")
    runs = []
    try:
        for i in range(n):
            if gap_ms:
                time.sleep(gap_ms / 1000.0)
            runs.append(cycle_once(i))
    finally:
        for p in made:
            os.rmdir(p)
    med = {k: statistics.median(r[k] for r in runs) / 1000.0 for k in runs[0]}
    return {"mode": "v2" if V2 else "v1", "runs": n, "gap_ms": gap_ms, "median_us": med}


def pss_kb(pid):
    try:
        for line in open("/proc/%d/smaps_rollup" % pid):
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def comm(pid):
    try:
        return open("/proc/%d/comm" % pid).read().strip()
    except OSError:
        return ""


def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir("/proc/%d/task" % p):
                kids = open("/proc/%d/task/%s/children" % (p, t)).read().split()
                todo.extend(int(k) for k in kids)
        except OSError:
            pass
    return out


def mem_available_kb():
    for line in open("/proc/meminfo"):
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


def start_many(name, n, argv_of, fifo, timeout=120):
    """Start n sandboxes at once; wait for n ready lines on fifo."""
    rfd = os.open(fifo, os.O_RDWR | os.O_CLOEXEC)
    before = mem_available_kb()
    t0 = time.perf_counter()
    procs = [subprocess.Popen(argv_of(i), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for i in range(n)]
    got, buf, deadline = 0, b"", time.monotonic() + timeout
    os.set_blocking(rfd, False)
    while got < n and time.monotonic() < deadline:
        try:
            chunk = os.read(rfd, 65536)
            buf += chunk
            got = buf.count(b"\n")
        except BlockingIOError:
            time.sleep(0.002)
    ready_s = time.perf_counter() - t0
    time.sleep(0.5)  # let the page cache and lazy allocations settle
    used = before - mem_available_kb()
    own = payload = 0
    for p in procs:
        for q in tree(p.pid):
            if comm(q) == "sleep":
                payload += pss_kb(q)
            else:
                own += pss_kb(q)
    os.close(rfd)
    return procs, {"name": name, "ready": got, "start_all_s": round(ready_s, 3),
                   "pss_overhead_kb_per_sandbox": round(own / n, 1),
                   "payload_pss_kb_per_sandbox": round(payload / n, 1),
                   "mem_used_kb_per_sandbox": round(used / n, 1)}


def stop(procs, sig, extra=None):
    for p in procs:
        try:
            if extra:
                extra(p)
            p.send_signal(sig)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def crun_bundle(template, work, fifo_dir, cid, script):
    """A bundle of its own (config.json) on the template's rootfs."""
    c = json.load(open(os.path.join(template, "config.json")))
    c["root"] = {"path": os.path.join(os.path.abspath(template), "rootfs"), "readonly": True}
    c["process"]["terminal"] = False
    c["process"]["args"] = ["/bin/sh", "-c", script]
    c["mounts"].append({"destination": "/ready", "type": "bind", "source": fifo_dir,
                        "options": ["rbind", "rw"]})
    base = "" if V2 else own_cgroup("memory").rstrip("/")
    c["linux"]["cgroupsPath"] = base + "/sandboxctl-bench-many/" + cid
    d = os.path.join(work, "bundle-" + cid)
    os.makedirs(d, exist_ok=True)
    json.dump(c, open(os.path.join(d, "config.json"), "w"))
    return d


def many(n, names, sbx, bundle, work):
    fifo_dir = os.path.join(work, "ready")
    os.makedirs(fifo_dir, exist_ok=True)
    fifo = os.path.join(fifo_dir, "fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo, 0o666)
    script = "echo r > %s; exec sleep 30"
    results = []
    if "sleep" in names:  # the floor: bare sleeps
        procs, r = start_many("sleep", n, lambda i: ["sh", "-c", script % fifo], fifo)
        stop(procs, signal.SIGKILL)
        results.append(r)
    if "sandboxctl" in names:
        many_sandboxctl(n, sbx, fifo_dir, fifo, script, results)
    if "bwrap" in names:
        many_bwrap(n, fifo_dir, fifo, script, results)
    if "crun" in names:
        many_crun(n, bundle, work, fifo_dir, fifo, script, results)
    return {"sandboxes": n, "results": results}


def many_sandboxctl(n, sbx, fifo_dir, fifo, script, results):
    procs, r = start_many("sandboxctl", n, lambda i: [sbx, "run", "--quiet", "--workspace",
                          fifo_dir, "--", "sh", "-c", script % "/workspace/fifo"], fifo)
    stop(procs, signal.SIGTERM)
    results.append(r)


def many_bwrap(n, fifo_dir, fifo, script, results):
    bwrap = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr",
             "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink",
             "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin", "--proc", "/proc",
             "--dev", "/dev", "--tmpfs", "/tmp", "--bind", fifo_dir, "/ready", "sh", "-c",
             script % "/ready/fifo"]
    procs, r = start_many("bwrap", n, lambda i: bwrap, fifo)
    stop(procs, signal.SIGKILL)
    results.append(r)


def many_crun(n, bundle, work, fifo_dir, fifo, script, results):
    if bundle:
        ids = ["sbx-bench-%d-%d" % (os.getpid(), i) for i in range(n)]
        dirs = [crun_bundle(bundle, work, fifo_dir, ids[i], script % "/ready/fifo")
                for i in range(n)]
        procs, r = start_many("crun", n, lambda i: ["crun", "run", "--bundle", dirs[i], ids[i]],
                              fifo)
        for i in ids:
            subprocess.run(["crun", "kill", i, "KILL"], stderr=subprocess.DEVNULL)
        stop(procs, signal.SIGKILL)
        for i in ids:
            subprocess.run(["crun", "delete", "-f", i], stderr=subprocess.DEVNULL)
        results.append(r)


def main():
    if sys.argv[1] == "cycle":
        print(json.dumps(cycle(int(sys.argv[2]), int(sys.argv[3]))))
    elif sys.argv[1] == "many":
        print(json.dumps(many(int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4],
                              sys.argv[5] or None, sys.argv[6])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
