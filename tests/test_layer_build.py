"""What `sam build` packages into the layer: what Lambda will import, compiled ahead of time.

`make test` builds before it tests; run alone, pytest skips these until `make build` has run."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / ".aws-sam" / "build" / "PaperboyLayer" / "python"
pytestmark = pytest.mark.skipif(not LAYER.is_dir(), reason="the layer is not built (make build)")

# PEP 552 flags: bit 0 hash-based, bit 1 check the source. Lambda's /opt is read-only, so bytecode that
# is not used as is would be compiled again on every cold start.
UNCHECKED_HASH = 0b01


def _pinned() -> dict[str, str]:
    text = (ROOT / "layers" / "paperboy" / "requirements.txt").read_text()
    return {
        name.lower(): version
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", text, re.MULTILINE)
    }


def test_every_module_ships_bytecode_lambda_uses_without_checking_the_source() -> None:
    sources = [path for path in LAYER.rglob("*.py") if "bin" not in path.relative_to(LAYER).parts]
    assert len(sources) > 500  # the dependencies are there, not only our package
    stale = []
    for source in sources:
        compiled = Path(importlib.util.cache_from_source(str(source)))
        if not compiled.is_file() or int.from_bytes(compiled.read_bytes()[4:8], "little") != UNCHECKED_HASH:
            stale.append(str(source.relative_to(LAYER)))
    assert stale == []


def test_the_layer_holds_the_pinned_sdk_and_nothing_from_the_developer_tools() -> None:
    installed = {
        match.group(1).lower().replace("_", "-"): match.group(2)
        for path in LAYER.glob("*.dist-info")
        if (match := re.match(r"(.+)-([^-]+)\.dist-info$", path.name))
    }
    for name, version in _pinned().items():
        assert installed.get(name.replace("_", "-")) == version, name
    assert {"boto3", "botocore", "s3transfer"} <= installed.keys()
    assert not {"moto", "pytest", "awscrt", "pyopenssl", "cryptography", "ruff"} & installed.keys()
    assert (LAYER / "paperboy" / "templates").is_dir()
