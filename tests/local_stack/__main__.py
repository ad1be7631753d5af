"""python -m local_stack demo | scenario FILE --out DIR"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from local_stack import demo, scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local_stack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_command = commands.add_parser("demo", help="run the daily cycle and print what happened")
    demo_command.add_argument("--out", type=Path, default=Path("out/demo"))
    scenario_command = commands.add_parser("scenario", help="run a scenario file")
    scenario_command.add_argument("file", type=Path)
    scenario_command.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args(argv)
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
