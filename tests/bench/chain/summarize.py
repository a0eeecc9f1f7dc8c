#!/usr/bin/env python3
"""Summarizes tests/bench/run_benchmarks.sh results (JSON lines) into the markdown table."""
import json
import statistics
import sys
from collections import defaultdict

path, big_bytes, ts_note = sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else ""
results = defaultdict(list)
raw = [json.loads(line) for line in open(path)]
for d in raw:
    results[(d["bench"], d["setup"])].append(d["result"])


def values(bench, setup, key):
    return [r[key] for r in results.get((bench, setup), []) if key in r]


def med(bench, setup, key):
    v = values(bench, setup, key)
    return statistics.median(v) if v else None


def fmt(x, digits=0):
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def cell(bench, setup, key, digits=0):
    v = values(bench, setup, key)
    if not v:
        return "n/a", "n/a"
    return fmt(statistics.median(v), digits), f"{fmt(min(v), digits)}–{fmt(max(v), digits)} (n={len(v)})"


def mem(bench, setup, field):
    """Per process name: the largest value of `field` over the runs (KiB)."""
    out = defaultdict(int)
    for r in results.get((bench, setup), []):
        counts = defaultdict(int)
        for p in r.get("procs", []):
            counts[p["name"]] += 1
            out[p["name"]] = max(out[p["name"]], p[field])
        if "client_hwm_kb" in r and field == "hwm_kb":
            out["acp-bench-client"] = max(out["acp-bench-client"], r["client_hwm_kb"])
    return dict(out)


def verdict(ok):
    return "n/a" if ok is None else ("met" if ok else "MISSED")


lines = []
p = lines.append
setups = ["direct", "relay-0", "conductor-0", "relay-1", "conductor-1", "relay-3", "conductor-3", "conductor-3T"]
p("### 1. Round trip: 1,000 sequential `session/prompt` turns, one update each (C++ endpoints)\n")
p("| setup | p50 µs (median of runs) | p50 spread | p99 µs (median) | turns/s (median) |")
p("| --- | ---: | --- | ---: | ---: |")
for s in setups + ["conductor-3L", "thinkwell-3L"]:
    m, spread = cell("rtt", s, "p50_us", 1)
    if m == "n/a":
        continue
    total = med("rtt", s, "total_s")
    n = values("rtt", s, "p50_us")
    turns_per_s = (1000 / total) if total else None
    p(f"| {s} | {m} | {spread} | {fmt(med('rtt', s, 'p99_us'), 1)} | {fmt(turns_per_s)} |")
p("")
p("### 2. Streaming: turns of 10,000 `agent_message_chunk` updates of ~150 bytes (C++ endpoints)\n")
p("| setup | updates/s (median of runs) | spread |")
p("| --- | ---: | --- |")
for s in setups + ["conductor-3L", "thinkwell-3L"]:
    m, spread = cell("stream", s, "updates_per_s")
    if m != "n/a":
        p(f"| {s} | {m} | {spread} |")
p("")
p(f"### 3. A {big_bytes / 2**20:.0f} MiB `fs/read_text_file` result through 3 proxies\n")
p("| setup | seconds (median) | spread | peak RSS per process (VmHWM, max over runs) |")
p("| --- | ---: | --- | --- |")
for s in ["relay-3", "conductor-3", "conductor-3L", "thinkwell-3L"]:
    m, spread = cell("bigfile", s, "seconds", 3)
    if m == "n/a":
        continue
    hwm = mem("bigfile", s, "hwm_kb")
    p(f"| {s} | {m} | {spread} | " + ", ".join(f"{k} {v / 1024:.1f} MiB" for k, v in sorted(hwm.items())) + " |")
p("")
p("### 4. Start-up: spawn to `initialize` answered\n")
p("| setup | ms (median) | spread |")
p("| --- | ---: | --- |")
for s in ["direct", "relay-3", "conductor-3", "conductor-3L", "thinkwell-3L"]:
    m, spread = cell("startup", s, "startup_ms", 2)
    if m != "n/a":
        p(f"| {s} | {m} | {spread} |")
p("")
p("### 5. Memory: idle (after `session/new`) and steady state (after the streaming turns)\n")
p("| setup | state | RSS per process (VmRSS, max over runs) |")
p("| --- | --- | --- |")
for s, bench, state in [("conductor-3", "idle", "idle"), ("conductor-3", "stream", "steady (streaming)"),
                        ("conductor-3", "rtt", "steady (round trips)"), ("thinkwell-3L", "idle", "idle"),
                        ("thinkwell-3L", "stream", "steady (streaming)")]:
    rss = mem(bench, s, "rss_kb")
    if rss:
        p(f"| {s} | {state} | " + ", ".join(f"{k} {v / 1024:.1f} MiB" for k, v in sorted(rss.items())) + " |")
p("")

# ---- tracing: conductor-3 streaming with --trace off and on (alternating runs) ------------------
def by_run(bench, setup, key):
    return {d["run"]: d["result"][key] for d in raw if d["bench"] == bench and d["setup"] == setup
            and key in d["result"]}

trace_off = med("stream", "trace-off-3", "updates_per_s")
trace_on = med("stream", "trace-on-3", "updates_per_s")
off_runs, on_runs = by_run("stream", "trace-off-3", "updates_per_s"), by_run("stream", "trace-on-3", "updates_per_s")
pair_ratios = sorted(on_runs[k] / off_runs[k] for k in on_runs if k in off_runs and off_runs[k])
trace_ratio = statistics.median(pair_ratios) if pair_ratios else None
if trace_off is not None or trace_on is not None:
    p("### 6. Tracing: conductor-3 streaming with `--trace FILE` off and on (alternating runs)\n")
    p("| setup | updates/s (median of runs) | spread |")
    p("| --- | ---: | --- |")
    for s in ["trace-off-3", "trace-on-3"]:
        m, spread = cell("stream", s, "updates_per_s")
        p(f"| {s} | {m} | {spread} |")
    p("")
    spread = f"{pair_ratios[0]:.2f}–{pair_ratios[-1]:.2f}" if pair_ratios else "n/a"
    p(f"on/off: {fmt(trace_ratio, 2)}x (median of the {len(pair_ratios)} run pairs; pairs {spread}).")
    def conductor_cpu(setup):
        v = [p["cpu_s"] for r in results.get(("stream", setup), []) for p in r.get("procs", [])
             if p["name"] == "acp-conductor" and "cpu_s" in p]
        return statistics.median(v) if v else None
    cpu_off, cpu_on = conductor_cpu("trace-off-3"), conductor_cpu("trace-on-3")
    if cpu_off and cpu_on:
        p(f"acp-conductor CPU time per run (all threads, median): {cpu_off:.2f} s off, {cpu_on:.2f} s on "
          f"({cpu_on / cpu_off:.2f}x).")
    files = [d["result"] for d in raw if d["bench"] == "trace-file"]
    if files:
        ev = statistics.median(f["events"] for f in files)
        dr = sum(f["dropped"] for f in files)
        mib = statistics.median(f["bytes"] for f in files) / 2**20
        p(f"Trace file per run: {fmt(ev)} events, {mib:.1f} MiB (median); events dropped over all runs: {dr}.")
    p("")

ts = [("ts-rtt", "p50_us", "p50 µs", 1), ("ts-stream", "updates_per_s", "updates/s", 0)]
if any(k[0].startswith("ts-") for k in results):
    p("### TypeScript SDK endpoints (client and agent from @agentclientprotocol/sdk)\n")
    p("| benchmark | setup | median | spread |")
    p("| --- | --- | ---: | --- |")
    for bench, key, label, digits in ts:
        for s in ["direct", "conductor-3L", "thinkwell-3L"]:
            m, spread = cell(bench, s, key, digits)
            if m != "n/a":
                p(f"| {bench} ({label}) | {s} | {m} | {spread} |")
    p("")

# ---- targets ------------------------------------------------------------------------------------
def ratio(a, b):
    return a / b if a is not None and b else None

rtt3, relay3 = med("rtt", "conductor-3", "p50_us"), med("rtt", "relay-3", "p50_us")
tw_rtt, our_rttL = med("rtt", "thinkwell-3L", "p50_us"), med("rtt", "conductor-3L", "p50_us")
st3 = med("stream", "conductor-3", "updates_per_s")
tw_st, our_stL = med("stream", "thinkwell-3L", "updates_per_s"), med("stream", "conductor-3L", "updates_per_s")
big = med("bigfile", "conductor-3", "seconds")
hwm = mem("bigfile", "conductor-3", "hwm_kb")
idle = mem("idle", "conductor-3", "rss_kb").get("acp-conductor")
su3, su0 = med("startup", "conductor-3", "startup_ms"), med("startup", "direct", "startup_ms")
r1 = ratio(rtt3, relay3)
r2 = ratio(tw_rtt, our_rttL)
r3 = ratio(our_stL, tw_st)
worst = max(hwm.values()) if hwm else None
p("### Targets\n")
p("| target | measured | verdict |")
p("| --- | --- | --- |")
p(f"| 3 proxies p50 round trip ≤ 2x the raw relay (same topology) | {fmt(r1, 2)}x ({fmt(rtt3, 1)} vs {fmt(relay3, 1)} µs) | {verdict(None if r1 is None else r1 <= 2)} |")
p(f"| 3 proxies round trip ≥ 4x faster than @thinkwell/conductor | {fmt(r2, 1)}x ({fmt(our_rttL, 1)} vs {fmt(tw_rtt, 1)} µs) | {verdict(None if r2 is None else r2 >= 4)} |")
p(f"| 3 proxies streaming ≥ 200,000 updates/s (C++ endpoints) | {fmt(st3)} /s | {verdict(None if st3 is None else st3 >= 200000)} |")
p(f"| {big_bytes / 2**20:.0f} MiB through 3 proxies < 1 s | {fmt(big, 3)} s | {verdict(None if big is None else big < 1)} |")
p(f"| peak RSS per process < 4x the message | worst {fmt(worst / 1024 if worst else None, 1)} MiB = {fmt(worst * 1024 / big_bytes if worst else None, 2)}x | {verdict(None if worst is None else worst * 1024 < 4 * big_bytes)} |")
p(f"| conductor idle RSS < 8 MiB | {fmt(idle / 1024 if idle else None, 2)} MiB | {verdict(None if idle is None else idle < 8 * 1024)} |")
p(f"| start-up overhead < 20 ms beyond the agent's own (3 proxies) | {fmt(su3 - su0 if su3 and su0 else None, 2)} ms | {verdict(None if not (su3 and su0) else su3 - su0 < 20)} |")

# The chain's cost against the floor (issue 15): each setup ran once per round, so each round
# gives a ratio; the median of those ratios (and their spread) is what a drifting machine cannot
# move. conductor-3L and conductor-3T ran in the same rounds.
def paired(bench, a, b, key):
    ra, rb = by_run(bench, a, key), by_run(bench, b, key)
    rs = sorted(ra[k] / rb[k] for k in ra if k in rb and rb[k])
    if not rs:
        return None, "n/a"
    return statistics.median(rs), f"{rs[0]:.2f}–{rs[-1]:.2f}, n={len(rs)}"

f1, s1 = paired("stream", "conductor-3", "relay-3", "updates_per_s")
f2, s2 = paired("stream", "conductor-3", "conductor-3L", "updates_per_s")
f3, s3 = paired("rtt", "conductor-3", "relay-3", "p50_us")
f4, s4 = paired("bigfile", "conductor-3", "relay-3", "seconds")
f5, s5 = paired("stream", "conductor-3T", "conductor-3", "updates_per_s")
p("")
p("### Against the floor (median of the per-round ratios, this run)\n")
p("| figure | measured (spread) | target | verdict |")
p("| --- | --- | --- | --- |")
p(f"| streaming, 3 proxies, vs `relay-3` | {fmt(f1, 2)} ({s1}) | ≥ 0.6 | {verdict(None if f1 is None else f1 >= 0.6)} |")
p(f"| streaming, `conductor-3` vs `conductor-3L` | {fmt(f2, 2)} ({s2}) | ≥ 1.0 | {verdict(None if f2 is None else f2 >= 1.0)} |")
p(f"| p50 round trip, 3 proxies, vs `relay-3` | {fmt(f3, 2)} ({s3}) | ≤ 1.25 | {verdict(None if f3 is None else f3 <= 1.25)} |")
p(f"| {big_bytes / 2**20:.0f} MiB through 3 proxies, vs `relay-3` | {fmt(f4, 2)} ({s4}) | ≤ 1.5 | {verdict(None if f4 is None else f4 <= 1.5)} |")
p(f"| streaming with `--trace` on vs off | {fmt(trace_ratio, 2)} | ≥ 0.8 | {verdict(None if trace_ratio is None else trace_ratio >= 0.8)} |")
p(f"| streaming vs `@thinkwell/conductor`, same proxies | {fmt(r3, 1)}x | ≥ 10x | {verdict(None if r3 is None else r3 >= 10)} |")
p(f"| typed handlers (`conductor-3T`) vs pass-through (`conductor-3`), streaming | {fmt(f5, 2)} ({s5}) | (shown) | |")
if ts_note:
    p(f"\n{ts_note}")
print("\n".join(lines))
