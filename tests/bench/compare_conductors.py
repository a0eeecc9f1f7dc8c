#!/usr/bin/env python3
"""Paired A/B of two acp-conductor binaries on the streaming benchmark (docs/PERFORMANCE.md).

    tests/bench/compare_conductors.py [--runs N] [--turns T] [--proxies K] BUILD_DIR CONDUCTOR_A CONDUCTOR_B
    tests/bench/compare_conductors.py --chains [--runs N] [--turns T] [--proxies K] BUILD_A BUILD_B
    tests/bench/compare_conductors.py --proxy-b 'COMMAND' [--runs N] [--turns T] [--proxies K] BUILD_DIR
    add --rtt to any form: sequential round trips (p50 µs of T round trips) instead of streaming
    add --trace DIR to any form: both conductors run with `--trace DIR/trace-a.jsonl` (-b for B)
    add --bigfile BYTES to any form: seconds of one fs/read_text_file of BYTES through the chain
      instead of streaming; each run also times `relay-K` (BUILD's relay, each side's endpoints)
      and the per-run ratios to it are printed for A and B

Runs the same chain (BUILD_DIR's bench client, K bench proxies and bench agent) with A and B in
alternating runs, so that drift of the machine's speed hits both alike, and prints the median of
the per-run ratios A/B: the conductor's own CPU seconds (its per-message work, what a change to
the routing path moves) and the streamed updates per second (the whole chain). `--chains`: A and
B are two builds, each chain entirely from its own build (conductor, proxies, agent; the client
from A), to compare a change to the protocol library or the SDK too. `--proxy-b`: one build's
conductor, with its bench proxy (A) against COMMAND as each of the K proxies (B; one argument,
the conductor splits it). Exit 2 on a usage error or when a run fails.
"""
import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys


RTT = False  # --rtt: round trips (p50 µs) instead of streaming (updates/s)
BIGFILE = 0  # --bigfile BYTES: seconds of one read of BYTES instead of streaming
TRACE_DIR = None  # --trace DIR: each conductor writes a trace there (removed after each run)


def one_run(build, conductor, turns, proxies, chain_build=None, proxy=None, side="a"):
    client = f"{build}/tests/bench/chain/acp-bench-client"
    chain = f"{chain_build or build}/tests/bench/chain"
    proxy = proxy or f"{chain}/acp-bench-proxy"
    trace = [] if TRACE_DIR is None else ["--trace", os.path.join(TRACE_DIR, f"trace-{side}.jsonl")]
    try:
        result = client_run(client, [conductor] + trace + ["agent"] + [proxy] * proxies + [f"{chain}/acp-bench-agent"],
                            turns)
    finally:
        if trace:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(trace[1])
    cpu = result["procs"][0]["cpu_s"]  # the first process the client started: the conductor
    return cpu, result["p50_us"] if RTT else result["seconds"] if BIGFILE else result["updates_per_s"]


def relay_run(build, proxies, chain_build=None):
    """Seconds of the --bigfile read through relay-K (BUILD's relay, CHAIN_BUILD's agent and client)."""
    chain = f"{chain_build or build}/tests/bench/chain"
    relay = f"{build}/tests/bench/chain/acp-bench-relay"
    return client_run(f"{chain}/acp-bench-client", [relay, "hub", str(proxies), f"{chain}/acp-bench-agent"], 0)["seconds"]


def client_run(client, command, turns):
    if BIGFILE:
        mode = ["bigfile", "--bytes", str(BIGFILE)]
    elif RTT:
        mode = ["rtt", "--turns", str(turns)]
    else:
        mode = ["stream", "--turns", str(turns), "--updates", "10000", "--size", "150"]
    out = subprocess.run([client] + mode + ["--"] + command, capture_output=True, text=True, timeout=600).stdout
    lines = [l for l in out.splitlines() if '"mode"' in l]
    if not lines:
        raise RuntimeError(f"no result from {command[0]}")
    result = json.loads(lines[-1])
    if "error" in result:
        raise RuntimeError(f"{command[0]}: {result['error']}")
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--turns", type=int, default=30)
    ap.add_argument("--proxies", type=int, default=3)
    ap.add_argument("--chains", action="store_true", help="A and B are build directories")
    ap.add_argument("--proxy-b", help="B: this proxy command in BUILD_DIR's chain")
    ap.add_argument("--rtt", action="store_true", help="round trips: p50 µs of --turns round trips")
    ap.add_argument("--trace", metavar="DIR", help="both conductors write a trace file into DIR")
    ap.add_argument("--bigfile", type=int, metavar="BYTES", default=0,
                    help="seconds of one fs/read_text_file of BYTES, and the ratio to relay-K")
    ap.add_argument("build")
    ap.add_argument("a", nargs="?")
    ap.add_argument("b", nargs="?")
    args = ap.parse_args()
    global RTT, TRACE_DIR, BIGFILE
    RTT = args.rtt
    TRACE_DIR = args.trace
    BIGFILE = args.bigfile
    if RTT and BIGFILE:
        ap.error("--rtt and --bigfile are two different benchmarks")
    if args.proxy_b:
        if args.a or args.chains:
            ap.error("--proxy-b takes one build directory")
        conductor = f"{args.build}/conductor/acp-conductor"
        run_a = lambda: one_run(args.build, conductor, args.turns, args.proxies)
        run_b = lambda: one_run(args.build, conductor, args.turns, args.proxies, proxy=args.proxy_b, side="b")
    elif args.chains:
        if not args.a or args.b:
            ap.error("--chains takes two build directories")
        run_a = lambda: one_run(args.build, f"{args.build}/conductor/acp-conductor", args.turns, args.proxies)
        run_b = lambda: one_run(args.build, f"{args.a}/conductor/acp-conductor", args.turns, args.proxies, args.a,
                                side="b")
    else:
        if not args.b:
            ap.error("expected BUILD_DIR CONDUCTOR_A CONDUCTOR_B")
        run_a = lambda: one_run(args.build, args.a, args.turns, args.proxies)
        run_b = lambda: one_run(args.build, args.b, args.turns, args.proxies, side="b")
    # With --bigfile each side's relay-K too: the floor with that side's endpoints.
    chain_b = args.a if args.chains else None
    cpu_ratio, ups_ratio, cpu_a, cpu_b, ups_a, ups_b, floor_a, floor_b = [], [], [], [], [], [], [], []
    try:
        for _ in range(args.runs):
            ca, ua = run_a()
            cb, ub = run_b()
            if BIGFILE:
                floor_a.append(ua / relay_run(args.build, args.proxies))
                floor_b.append(ub / relay_run(args.build, args.proxies, chain_b))
            cpu_a.append(ca), cpu_b.append(cb), ups_a.append(ua), ups_b.append(ub)
            if cb > 0:  # a short run can round the CPU to 0
                cpu_ratio.append(ca / cb)
            ups_ratio.append(ua / ub)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        print(f"compare_conductors: {e}", file=sys.stderr)
        return 2
    med = statistics.median
    what = f"a read of {BIGFILE:,} bytes" if BIGFILE else f"{args.turns} round trips" if RTT else \
        f"{args.turns} turns of 10,000 updates"
    print(f"{args.runs} paired runs, {args.proxies} proxies, {what}")
    cpu_text = f"A/B {med(cpu_ratio):.3f} (min {min(cpu_ratio):.3f}, max {max(cpu_ratio):.3f})" if cpu_ratio else ""
    print(f"conductor CPU s   A {med(cpu_a):.3f}  B {med(cpu_b):.3f}  {cpu_text}")
    unit = "seconds" if BIGFILE else "p50 µs" if RTT else "updates/s"
    fmt = ".3f" if BIGFILE else ",.0f"
    print(f"{unit:<18}A {med(ups_a):{fmt}}  B {med(ups_b):{fmt}}  A/B {med(ups_ratio):.3f} "
          f"(min {min(ups_ratio):.3f}, max {max(ups_ratio):.3f})")
    if BIGFILE:
        for side, ratios in (("A", floor_a), ("B", floor_b)):
            print(f"{side} / relay-{args.proxies}       {med(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
