"""python -m local_stack demo | scenario FILE --out DIR | faults [--seed N --readers N]"""

from __future__ import annotations

import argparse
import json
import sys
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
    faults.add_argument("--seed", type=int, default=7)
    faults.add_argument("--readers", type=int, default=200)
    faults.add_argument("--days", type=int, default=3)
    faults.add_argument("--commands", type=int, default=100)
    faults.add_argument("--json", type=Path, default=None)
    arguments = parser.parse_args(argv)
    if arguments.command == "faults":
        report = campaign.run(
            seed=arguments.seed, readers=arguments.readers, days=arguments.days, commands=arguments.commands
        )
        if arguments.json:
            arguments.json.parent.mkdir(parents=True, exist_ok=True)
            arguments.json.write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
        print(campaign.table(report))
        return 0 if report.ok else 1
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


if __name__ == "__main__":
    sys.exit(main())
