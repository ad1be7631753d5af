"""The double opt-in is shared with the Web function: its subscribe form and confirm link must not
load the inbound mail parser, nor the Inbox that routes mail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "layers" / "paperboy"
CHILD = """
import json, sys
import paperboy.mail.optin
print(json.dumps(sorted(sys.modules)))
"""


def test_the_opt_in_loads_no_mail_parser_and_no_inbox():
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        env={"PYTHONPATH": str(LAYER)},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(out.stdout))
    assert "paperboy.mail.optin" in loaded
    assert "paperboy.mail.inbound.message" not in loaded
    assert "paperboy.mail.inbound.inbox" not in loaded
