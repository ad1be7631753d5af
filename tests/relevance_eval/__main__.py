"""python -m relevance_eval [--fit] [--profiles DIR] [--json FILE]: see the package docstring."""

from __future__ import annotations

import argparse
import sys

from relevance_eval import evaluate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="relevance_eval", description=__doc__)
    parser.add_argument("--profiles", default=str(evaluate.PROFILES), help="folder with profiles/judgements")
    parser.add_argument(
        "--fit", action="store_true", help="refit the fusion model on every profile and write fusion.json"
    )
    parser.add_argument("--json", default="", help="also write the figures to this file")
    parser.add_argument("--per-profile", action="store_true", help="print every profile's row")
    arguments = parser.parse_args(argv)
    report = evaluate.run(evaluate.Labelled.load(arguments.profiles), fit=arguments.fit)
    print(evaluate.table(report, per_profile=arguments.per_profile))
    if arguments.json:
        evaluate.save(report, arguments.json)
    goals = evaluate.goals(report)
    print()
    for name, met in goals.items():
        print(f"{'ok  ' if met else 'MISS'} {name}")
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
