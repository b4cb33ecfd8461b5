#!/usr/bin/env python3
"""What the scale-to-zero hold line costs HAProxy (issue 19), on loopback only.

1. Overhead on a backend that has servers: wrk against two identical backends of one HAProxy, one with
   `http-request lua.autoscale-hold`, one without, interleaved in the same run (A B A B ...), both forwarding to an
   origin frontend of the same HAProxy that answers 200 itself (so no app is the bottleneck).
2. Memory per held request: a backend whose only server is disabled holds N requests (default 500); `show info`,
   `show pools` and the process's RSS before, during (all N held) and after (server enabled: all N answered 200).

Usage: hold-cost.py [--haproxy PATH] [--rounds 6] [--seconds 8] [--held 500] [--out results/hold-cost.md]
Needs haproxy (with Lua), wrk. Every process it starts is stopped by its PID.
"""
import argparse, os, re, shutil, socket, subprocess, sys, tempfile, time, statistics, threading

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
LUA = os.path.join(REPO, "HaproxyAutoscale.Cli", "deploy", "haproxy-autoscale.lua")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def runtime(sock, command):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(sock)
        s.sendall((command + "\n").encode())
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode()


def info(sock):
    fields = {}
    for line in runtime(sock, "show info").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k.strip()] = v.strip()
    return fields


def pools_total(sock):
    m = re.search(r"Total: \d+ pools, (\d+) bytes allocated, (\d+) used", runtime(sock, "show pools"))
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def wrk(port, seconds):
    out = subprocess.run(["wrk", "-t2", "-c50", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, float(p99.group(1)) * scale, int(errors.group(1)) if errors else 0


def hold_many(port, n, results, timeout_s):
    """Opens n connections, sends one GET on each, and records each status once answered (bounded by timeout_s)."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        s.sendall(b"GET / HTTP/1.1\r\nHost: zero\r\nConnection: close\r\n\r\n")
        socks.append(s)

    def read(s):
        try:
            data = s.recv(256)
            results.append(int(data.split()[1]) if data else 0)
        except OSError:
            results.append(-1)
        finally:
            s.close()
    threads = [threading.Thread(target=read, args=(s,)) for s in socks]
    for t in threads:
        t.start()
    return threads


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--haproxy", default=os.environ.get("HPA_HAPROXY") or shutil.which("haproxy"))
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--seconds", type=int, default=8)
    p.add_argument("--held", type=int, default=500)
    p.add_argument("--out")
    a = p.parse_args()
    version = subprocess.run([a.haproxy, "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    work = tempfile.mkdtemp(prefix="hold-cost-")
    sock = os.path.join(work, "admin.sock")
    plain, hold, guarded, origin, zero = (free_port() for _ in range(5))
    cfg = os.path.join(work, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(f"""global
    lua-load {LUA}
    stats socket {sock} level admin
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend plain
    bind 127.0.0.1:{plain}
    default_backend plain
frontend hold
    bind 127.0.0.1:{hold}
    default_backend hold
frontend guarded
    bind 127.0.0.1:{guarded}
    default_backend guarded
frontend zero
    bind 127.0.0.1:{zero}
    default_backend zero
frontend origin
    bind 127.0.0.1:{origin}
    http-request return status 200 content-type text/plain string ok
backend plain
    server o 127.0.0.1:{origin}
backend hold
    http-request lua.autoscale-hold
    server o 127.0.0.1:{origin}
backend guarded
    http-request lua.autoscale-hold if {{ nbsrv eq 0 }}
    server o 127.0.0.1:{origin}
backend zero
    http-request lua.autoscale-hold-with 120 503
    server o 127.0.0.1:{origin} disabled
""")
    proc = subprocess.Popen([a.haproxy, "-f", cfg, "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lines = [f"HAProxy: {version}; {os.cpu_count()} cores.\n"]
    try:
        deadline = time.time() + 10
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.05)

        # Memory first, on a fresh process (the wrk runs would leave freed memory resident).
        before = (info(sock), pools_total(sock), rss_kb(proc.pid))
        results = []
        threads = hold_many(zero, a.held, results, 60)
        deadline = time.time() + 30
        while len(runtime(sock, "show sess").splitlines()) <= a.held and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # every held request has reached its first msleep
        during = (info(sock), pools_total(sock), rss_kb(proc.pid))
        sess = len([l for l in runtime(sock, "show sess").splitlines() if l.strip()]) - 1  # minus the show sess itself
        runtime(sock, "enable server zero/o")
        for t in threads:
            t.join(60)
        after = (info(sock), pools_total(sock), rss_kb(proc.pid))
        ok = sum(1 for s in results if s == 200)
        lines.append(f"Held {a.held} requests (`show sess`: {sess} streams); after enabling the server: {ok} answered 200, "
                     f"{len(results) - ok} other.\n")
        lines.append("| | RSS KB | pools allocated B | pools used B |")
        lines.append("|---|---|---|---|")
        for name, (i, (alloc, used), rss) in (("before", before), ("during", during), ("after", after)):
            lines.append(f"| {name} | {rss} | {alloc} | {used} |")
        lines.append(f"\nPer held request: RSS {(during[2] - before[2]) * 1024 / a.held:.0f} B, "
                     f"pools used {(during[1][1] - before[1][1]) / a.held:.0f} B.\n")

        names = {"without hold line": plain, "with `http-request lua.autoscale-hold`": hold,
                 "with `http-request lua.autoscale-hold if { nbsrv eq 0 }`": guarded}
        rows = {name: [] for name in names}
        for r in range(a.rounds):
            order = list(names.items())
            order = order[r % 3:] + order[:r % 3]  # each variant runs first, second and third in turn
            for name, port in order:
                rows[name].append(wrk(port, a.seconds))
        lines.append(f"wrk -t2 -c50 -d{a.seconds}s, {a.rounds} rounds interleaved (order rotating), against a backend "
                     "with a server (the origin is a frontend of the same HAProxy answering 200 itself, so no app hides "
                     "the cost).\n")
        lines.append("| backend | req/s median (min-max) | p99 ms median (min-max) | non-2xx |")
        lines.append("|---|---|---|---|")
        for name, rs in rows.items():
            rps = [x[0] for x in rs]; p99 = [x[1] for x in rs]
            lines.append(f"| {name} | {statistics.median(rps):.0f} ({min(rps):.0f}-{max(rps):.0f}) | "
                         f"{statistics.median(p99):.2f} ({min(p99):.2f}-{max(p99):.2f}) | {sum(x[2] for x in rs)} |")
        base = [x[0] for x in rows["without hold line"]]
        for name in list(rows)[1:]:
            # Paired per round: the runs of a round are back to back.
            diffs = [100 * (w[0] - o) / o for w, o in zip(rows[name], base)]
            lines.append(f"\n{name}: req/s {100 * (statistics.median(x[0] for x in rows[name]) - statistics.median(base)) / statistics.median(base):+.1f} % "
                         f"(medians); per round {', '.join(f'{d:+.1f}' for d in diffs)} %.")
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "a") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
