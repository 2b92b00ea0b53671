"""``python -m bench.serve_property --steps 2000``: thousands of random edits under serve, each compared with a full build.

The long run of tests/test_serve_property.py: sequences of ``--length`` random edits (seeds from
``--first-seed`` on, or from the clock), built as `mkdocs serve` builds them, in this process, and
compared after every step with a full build of the same files. Prints the steps run, the seconds
per step and each failing sequence with its seed (replay it with
``NOTES_PROPERTY_SEED=<seed> NOTES_PROPERTY_LENGTH=<length> pytest tests/test_serve_property.py``),
shrunk with ``--shrink`` to the fewest edits that still fail. Exits 1 when a sequence failed.
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_property", description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="steps in all (default 2000)")
    parser.add_argument("--length", type=int, default=15, help="steps per sequence (default 15)")
    parser.add_argument("--first-seed", type=int, default=None, help="seed of the first sequence (default: from the clock)")
    parser.add_argument("--template", action="store_true", help="also edit the theme override's main.html")
    parser.add_argument("--demos", action="store_true", help="with the demo hook and figure directives (a tiny fixture demo)")
    parser.add_argument("--no-nav", action="store_true", help="without `nav:` in mkdocs.yml")
    parser.add_argument("--shrink", action="store_true", help="shrink each failing sequence to the fewest edits that still fail")
    parser.add_argument("--minutes", type=float, default=None, help="stop starting sequences after this many minutes")
    args = parser.parse_args(argv)

    from tests.test_serve_property import EDITS, WITH_TEMPLATE, run_sequence, shrink

    logging.disable(logging.WARNING)  # the sites' unresolved links are warned about on every build
    first = args.first_seed if args.first_seed is not None else int(time.time()) % 1_000_000
    kinds = WITH_TEMPLATE if args.template else EDITS
    tmp = Path(tempfile.mkdtemp(prefix="dl-notes-serve-property-"))
    started = time.perf_counter()
    steps = sequences = 0
    failures = []
    try:
        seed = first
        while steps < args.steps:
            if args.minutes is not None and time.perf_counter() - started > args.minutes * 60:
                break
            failure, done = run_sequence(seed, min(args.length, args.steps - steps), tmp / "run", kinds,
                                         nav=not args.no_nav, demos=args.demos)
            steps, sequences = steps + done, sequences + 1
            if failure is not None:
                if args.shrink:
                    failure = shrink(failure, tmp / "shrink", nav=not args.no_nav, demos=args.demos)
                failures.append(failure)
                print(f"\n--- FAILED: {failure}\n", flush=True)
            print(f"[serve-property] seed {seed}: {done} steps, {'FAILED' if failure else 'ok'} "
                  f"({steps} steps, {(time.perf_counter() - started) / max(steps, 1):.2f} s/step)", file=sys.stderr, flush=True)
            seed += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    seconds = time.perf_counter() - started
    print(f"\nsteps run: {steps} in {sequences} sequences (seeds {first}-{first + sequences - 1}, {args.length} steps each), "
          f"{seconds:.0f} s, {seconds / max(steps, 1):.2f} s per step (an incremental build and a full build)")
    print(f"failing sequences: {len(failures)}" + "".join(f"\n  seed {f.seed}: step {f.step}, {len(f.edits)} edits" for f in failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
