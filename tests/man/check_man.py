#!/usr/bin/env python3
"""Checks a man page: groff finds nothing to warn about, and every option that the program's
--help lists is documented in the page. Usage: check_man.py PAGE PROGRAM"""
import re
import subprocess
import sys


def main() -> int:
    page, program = sys.argv[1], sys.argv[2]
    failures = []
    lint = subprocess.run(["groff", "-ww", "-z", "-man", page], capture_output=True, text=True)
    if lint.returncode != 0 or lint.stderr.strip():
        failures.append(f"groff -ww reports problems in {page}:\n{lint.stderr}")
    help_run = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=30)
    if help_run.returncode != 0:
        failures.append(f"{program} --help exited {help_run.returncode}")
    # Option lines: indented, starting with the option itself ("  -h,--help ...", "  --trace FILE").
    options = sorted(set(re.findall(r"(?m)^\s+(?:-\w[, ]\s*)?(--[a-z][a-z0-9-]*)", help_run.stdout)))
    if not options:
        failures.append(f"{program} --help lists no options")
    with open(page, encoding="utf-8") as f:
        text = f.read().replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "")
    for opt in options:
        if opt not in text:
            failures.append(f"{page} does not document {opt} (listed by {program} --help)")
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"{page}: {len(options)} options checked, {len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
