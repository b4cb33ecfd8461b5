#!/usr/bin/env python3
"""The policy comparison behind the default policy (issue 13): every built-in policy, with its defaults and with
`tune`'s recommendation, simulated (`simulate`, the daemon's own decider on a discrete-event model) on three generated,
time-compressed load traces (step, spike, noisy, diurnal) and, when given, the fidelity rig's logs of real runs. Writes a markdown report.

Usage: policy-comparison.py CLI_DLL BENCH_DLL OUT.md [FIDELITY_LOG_DIR]
"""
import json, os, subprocess, sys, tempfile

cli, bench, out = sys.argv[1], sys.argv[2], sys.argv[3]
fidelity_dir = sys.argv[4] if len(sys.argv) > 4 else None
SLO_MS = 200
SEED = 1

# The generated traces' servers: four apps of 50 requests/s each (2 workers, 30-50 ms) behind maxconn 32, a 2 s cold
# start paid by the warm-up, HAProxy's queue timeout 10 s. s1 always up.
MODEL = {"backends": [{"backend": "app", "serviceTimeQuantilesMs": [30 + 0.2 * i for i in range(101)], "workers": 2,
                       "maxConn": 32, "coldStartMs": 2000, "idleToColdS": 300}]}
# Policies with their defaults; a setting a policy requires is set relative to the SLO (band: upper = SLO, lower =
# 0.4 SLO; target: 0.5 SLO).
DEFAULTS = {
    "threshold": {},
    "band": {"upperMs": SLO_MS, "lowerMs": 0.4 * SLO_MS},
    "target": {"targetMs": 0.5 * SLO_MS},
    "concurrency": {},
}
# Variants simulated with their defaults only (not tuned): the concurrency policy without the learned capacity (bursts
# sized by in-flight only, as before issue 23), and with the backend's SLO at twice the learned service p95 (about
# 100 ms here) instead of the default 200 ms.
VARIANTS = {
    "concurrency in-flight": ("concurrency", {"sizing": "in-flight"}, {}),
    "concurrency learned, slo 100ms": ("concurrency", {}, {"slo": {"p95": "100ms"}}),
}
# HPA_POLICY_TUNE=0: the defaults and variants only (minutes instead of tens of minutes).
TUNE = os.environ.get("HPA_POLICY_TUNE", "1") != "0"


def config(policy, settings, servers, evaluation="1s", settle="10s", window=None, backend_extra=None):
    backend = {"policy": dict({"kind": policy}, **settings), "settleTime": settle, "servers": servers, **(backend_extra or {})}
    if window:
        backend["window"] = window
    return {"haproxy": {"endpoints": ["/run/haproxy/admin.sock"]}, "evaluationInterval": evaluation, "backends": {"app": backend}}


def run(args):
    result = subprocess.run(["dotnet", cli] + args, capture_output=True, text=True)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def simulate(log, cfg, extra, tmp, name):
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return run(["simulate", log, "--config", path, "--json", "--slo", f"{SLO_MS}ms"] + extra)["backends"][0]


def tune(log, cfg, extra, tmp, name):
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return run(["tune", log, "--config", path, "--backend", "app", "--json", "--slo", f"{SLO_MS}ms", "--budget", "1%"] + extra)


def pct(x):
    return f"{100 * x:.2f}%"


def row(label, settings, r):
    held = " ".join(f"{k}:{v}" for k, v in sorted(r.get("heldBy", {}).items())) or "-"
    u, o = r["underProvisioning"], r["overProvisioning"]
    return (f"| {label} | `{settings}` | {pct(r['requestsOverSlo'])} | {r['violationSeconds']} | {r['serverSeconds']:.0f} | "
            f"{r['flaps']} | {r['userColdStarts']} | {pct(u['accuracy'])} / {pct(u['timeshare'])} | "
            f"{pct(o['accuracy'])} / {pct(o['timeshare'])} | {held} |")


def main():
    tmp = tempfile.mkdtemp()
    traces = []
    model = os.path.join(tmp, "model.json")
    with open(model, "w") as f:
        json.dump(MODEL, f)
    four = {"s1": {"alwaysUp": True}, **{f"s{i}": {"warmupUrl": f"http://127.0.0.1:8{i}/"} for i in range(2, 5)}}
    for kind in ["step", "spike", "noisy", "diurnal"]:
        log = os.path.join(tmp, kind + ".log")
        subprocess.run(["dotnet", bench, "generate-trace", kind, log, str(SEED)], check=True)
        traces.append((kind, log, four, ["--model", model, "--queue-timeout", "10s"], "1s", "10s"))
    if fidelity_dir:
        # The fidelity rig's real runs (HaproxyAutoscale.Benchmarks/Fidelity): six apps, k = 2, 30-70 ms, maxconn 8,
        # 500 ms cold start, timeout queue 30 s; the model is fitted from the run's own log, as simulate does.
        six = {"s1": {"alwaysUp": True}, **{f"s{i}": {"warmupUrl": f"http://127.0.0.1:8{i}/"} for i in range(2, 7)}}
        for kind in ["step", "spike"]:
            log = os.path.join(fidelity_dir, f"fidelity-{kind}.log")
            if os.path.exists(log):
                traces.append((f"fidelity-{kind} (real run)", log, six, ["--cold-start", "500ms", "--queue-timeout", "30s"], "1s", "10s"))

    results = {}
    lines = []
    for name, log, servers, extra, evaluation, settle in traces:
        lines.append(f"\n### {name}\n")
        lines.append("| policy | settings | over SLO | violation s | server-s | flaps | user cold starts | under acc / time | over acc / time | held by (evaluations) |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---|---|---|")
        static = simulate(log, config("threshold", {}, servers, evaluation, settle), extra + ["--static", str(len(servers))], tmp, "static")
        lines.append(row(f"static {len(servers)} (baseline)", "all on", static))
        for policy, settings in DEFAULTS.items():
            r = simulate(log, config(policy, settings, servers, evaluation, settle), extra, tmp, policy)
            results[(name, policy, "defaults")] = r
            lines.append(row(f"{policy} (defaults)", json.dumps(settings) if settings else "{}", r))
            if not TUNE:
                continue
            t = tune(log, config(policy, settings, servers, evaluation, settle), extra, tmp, policy + "-tune")
            best = t["recommended"]
            note = ""
            if best is None:
                # Nothing within the budget: the front's setting with the fewest requests over the SLO.
                best = min(t["paretoFront"], key=lambda c: c["result"]["requestsOverSlo"])
                note = " (none within 1 %: fewest over SLO)"
            tuned_settings = {k: v for k, v in best["policy"].items() if k != "kind"}
            r = simulate(log, config(policy, tuned_settings, servers, evaluation, settle, best["window"]), extra, tmp, policy + "-tuned")
            results[(name, policy, "tuned")] = r
            w = best["window"]
            lines.append(row(f"{policy} (tuned{note})", json.dumps(tuned_settings) + f" window {w['kind']} {w['size']} {w['statistic']}", r))

        for label, (policy, settings, extra_backend) in VARIANTS.items():
            r = simulate(log, config(policy, settings, servers, evaluation, settle, backend_extra=extra_backend), extra, tmp, "variant")
            results[(name, label, "defaults")] = r
            lines.append(row(f"{label} (defaults)", json.dumps(dict(settings, **extra_backend)), r))

    # The default: never worse than classic threshold on the user-facing axes (requests over the SLO, violation
    # seconds, user cold starts, under-provisioning accuracy) on any trace, and better on at least one axis on each.
    # Cost (server-seconds, over-provisioning) and flaps are shown, and are the price.
    axes = [("requestsOverSlo", True, lambda r: r["requestsOverSlo"]), ("violationSeconds", True, lambda r: r["violationSeconds"]),
            ("userColdStarts", True, lambda r: r["userColdStarts"]), ("underAccuracy", True, lambda r: r["underProvisioning"]["accuracy"]),
            ("serverSeconds", False, lambda r: r["serverSeconds"]), ("flaps", False, lambda r: r["flaps"]),
            ("overAccuracy", False, lambda r: r["overProvisioning"]["accuracy"])]
    verdict = ["\n## Against classic `threshold` (defaults), per trace\n",
               "`=` as good, `+` better, `-` worse, in this order: " + ", ".join(a for a, _, _ in axes) + " (the first four are the user-facing axes)\n",
               "| policy (defaults) | " + " | ".join(t[0] for t in traces) + " | never worse on a user-facing axis, better on one, on every trace | never worse on any axis |",
               "|---|" + "---|" * len(traces) + "---|---|"]
    for policy in list(DEFAULTS) + list(VARIANTS):
        if policy == "threshold":
            continue
        cells, ok, strict = [], True, True
        for name, *_ in traces:
            a, b = results[(name, policy, "defaults")], results[(name, "threshold", "defaults")]
            marks = ["=" if f(a) == f(b) else "+" if f(a) < f(b) else "-" for _, _, f in axes]
            ok &= "-" not in marks[:4] and "+" in marks
            strict &= "-" not in marks
            cells.append("".join(marks))
        verdict.append(f"| {policy} | " + " | ".join(f"`{c}`" for c in cells) + f" | {'yes' if ok else 'no'} | {'yes' if strict else 'no'} |")
    verdict += summary(traces, results)
    with open(out, "w") as f:
        f.write("\n".join(lines + verdict) + "\n")
    print("\n".join(lines + verdict))


# Issue 23's table: the default against classic threshold, target and the concurrency policy sized by in-flight only,
# and its rule: never worse than classic threshold on the user-facing axes on any trace, and no more server-seconds
# than it on the steady traces (noisy, diurnal).
SUMMARY_ROWS = [("concurrency", "default: concurrency, sizing learned"), ("threshold", "classic threshold"), ("target", "target"),
                ("concurrency in-flight", "concurrency, sizing in-flight")]
STEADY = ["noisy", "diurnal"]


def summary(traces, results):
    names = [t[0] for t in traces]
    out = ["\n## Issue 23's table: seconds over the SLO / server-seconds / flaps / user cold starts (defaults)\n",
           "| policy | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label in SUMMARY_ROWS:
        cells = []
        for n in names:
            r = results[(n, key, "defaults")]
            cells.append(f"{r['violationSeconds']} / {r['serverSeconds']:.0f} / {r['flaps']} / {r['userColdStarts']}")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out.append("\nThe rule (user-facing axes: requests over the SLO, seconds over the SLO, user cold starts, under-provisioning accuracy):\n")
    user = [("requests over the SLO", lambda r: r["requestsOverSlo"]), ("seconds over the SLO", lambda r: r["violationSeconds"]),
            ("user cold starts", lambda r: r["userColdStarts"]), ("under-provisioning accuracy", lambda r: r["underProvisioning"]["accuracy"])]
    for key, label in SUMMARY_ROWS[2:] + SUMMARY_ROWS[:1]:
        worse = [f"{n}: {a}" for n in names for a, f in user if f(results[(n, key, "defaults")]) > f(results[(n, "threshold", "defaults")])]
        dearer = [f"{n} ({results[(n, key, 'defaults')]['serverSeconds']:.0f} > {results[(n, 'threshold', 'defaults')]['serverSeconds']:.0f})"
                  for n in names if n in STEADY and results[(n, key, "defaults")]["serverSeconds"] > results[(n, "threshold", "defaults")]["serverSeconds"]]
        verdict = "met" if not worse and not dearer else "NOT met"
        out.append(f"- {label}: {verdict}" + (f"; worse than threshold on {', '.join(worse)}" if worse else "")
                   + (f"; more server-seconds on {', '.join(dearer)}" if dearer else ""))
    return out


main()
