"""python -m local_stack demo | scenario FILE --out DIR | faults [--seeds N ... --readers N]"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

from local_stack import campaign, demo, scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local_stack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_command = commands.add_parser("demo", help="run the daily cycle and print what happened")
    demo_command.add_argument("--out", type=Path, default=Path("out/demo"))
    scenario_command = commands.add_parser("scenario", help="run a scenario file")
    scenario_command.add_argument("file", type=Path)
    scenario_command.add_argument("--out", type=Path, required=True)
    faults = commands.add_parser("faults", help="run the seeded fault-injection campaign")
    faults.add_argument(
        "--seeds", "--seed", type=int, nargs="+", default=[7], help="one campaign per seed, in this order"
    )
    faults.add_argument("--readers", type=int, default=200)
    faults.add_argument("--days", type=int, default=3)
    faults.add_argument("--commands", type=int, default=100)
    faults.add_argument("--json", type=Path, default=None)
    arguments = parser.parse_args(argv)
    if arguments.command == "faults":
        return _faults(arguments)
    try:
        if arguments.command == "demo":
            print(demo.run(arguments.out))
        else:
            print(scenario.run(arguments.file, arguments.out))
            print(f"wrote {arguments.out / 'state.json'}")
    except scenario.ScenarioError as error:
        print(f"scenario error: {error}", file=sys.stderr)
        return 2
    return 0


def _faults(arguments: argparse.Namespace) -> int:
    """One seed: the campaign's full table. Several: a line per seed as each finishes, then the total."""
    run = partial(campaign.run, readers=arguments.readers, days=arguments.days, commands=arguments.commands)
    started = time.perf_counter()
    reports = []
    for seed in arguments.seeds:
        reports.append(run(seed))
        if len(arguments.seeds) > 1:
            print(campaign.summary(reports[-1]), flush=True)
    if len(reports) == 1:
        print(campaign.table(reports[0]))
    else:
        print(campaign.total(reports, time.perf_counter() - started))
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        data = [report.as_dict() for report in reports]
        text = json.dumps(data[0] if len(data) == 1 else data, indent=2, default=str)
        arguments.json.write_text(text + "\n")
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
