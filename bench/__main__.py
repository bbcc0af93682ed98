"""`make bench`: run the benchmark workloads and print one JSON line per measured step (format in DESIGN.md).

Workloads register in WORKLOADS below as each capability lands (W1 order-to-cash, W2 stock ledger, ...).
Only the JSON lines go to stdout; progress and notes go to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--workloads", default="", help="comma-separated, e.g. W1,W2 (default: all)")
    parser.add_argument("--scale", type=float, default=1.0)
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        # a fresh SQLite database for every run, never the demo's
        os.environ["FABRIKA_VAR_DIR"] = tempfile.mkdtemp(prefix="fabrika-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrika.settings")
    import django

    django.setup()
    import bench.w1  # noqa: F401  (registers W1)
    import bench.w2  # noqa: F401  (registers W2)
    from bench.workloads import WORKLOADS, run_workload

    wanted = [w.strip().upper() for w in options.workloads.split(",") if w.strip()] or list(WORKLOADS)
    unknown = [w for w in wanted if w not in WORKLOADS]
    if unknown:
        print(f"bench: unknown workload(s) {', '.join(unknown)}; known: {', '.join(WORKLOADS) or 'none yet'}", file=sys.stderr)
        return 2
    if not wanted:
        print("bench: no workloads are implemented yet (W1-W5 land with their issues)", file=sys.stderr)
    for name in wanted:
        run_workload(name, scale=options.scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
