"""python -m benchmarks [--quick]: print the figures as JSON and as a table."""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks import digests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs (smoke test)")
    parser.add_argument("--json", type=str, default="", help="also write the JSON to this file")
    parser.add_argument("--fan-out", type=int, default=10_000, help="readers in the local end-to-end fan-out")
    parser.add_argument(
        "--digests-only",
        action="store_true",
        help="only rank + render + MIME per digest and the arxiv-sanity-lite reference row (~2 min)",
    )
    arguments = parser.parse_args(argv)
    if arguments.digests_only:
        only = digests.digest_speed(quick=arguments.quick)
        print(json.dumps(only, indent=2))
        print()
        print(digests.digest_speed_table(only))
        return 0 if all(digests.digest_speed_checks(only).values()) else 1
    results = digests.run(quick=arguments.quick, fan_out_readers=arguments.fan_out)
    text = json.dumps(results, indent=2)
    print(text)
    if arguments.json:
        with open(arguments.json, "w") as handle:  # noqa: PTH123 - a CLI path
            handle.write(text + "\n")
    print()
    print(digests.table(results))
    return 0 if all(digests.checks(results).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
