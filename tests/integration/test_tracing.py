"""Privacy in X-Ray: no function's tracer records what its handler returns or raises."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

from local_stack.template import TEMPLATE

ROOT = Path(__file__).parents[2]
BODY = yaml_parse(TEMPLATE.read_text())
FUNCTIONS = {
    name: spec for name, spec in BODY["Resources"].items() if spec["Type"] == "AWS::Serverless::Function"
}
SOURCES = sorted([*ROOT.glob("functions/*/app.py"), *ROOT.glob("layers/paperboy/paperboy/**/*.py")])


@pytest.mark.parametrize("logical", sorted(FUNCTIONS))
def test_every_function_s_tracer_captures_neither_responses_nor_errors(logical):
    environment = {
        **BODY["Globals"]["Function"]["Environment"]["Variables"],
        **FUNCTIONS[logical]["Properties"].get("Environment", {}).get("Variables", {}),
    }
    assert environment.get("POWERTOOLS_TRACER_CAPTURE_RESPONSE") == "false"
    assert environment.get("POWERTOOLS_TRACER_CAPTURE_ERROR") == "false"


def _tracer_arguments(path: Path) -> list[tuple[int, str, object]]:
    """(line, keyword, value) of every capture_* argument given to a tracer decorator in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        decorator = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if decorator and node.func.attr in ("capture_lambda_handler", "capture_method"):
            found.extend(
                (
                    node.lineno,
                    k.arg,
                    ast.literal_eval(k.value) if isinstance(k.value, ast.Constant) else k.value,
                )
                for k in node.keywords
                if k.arg in ("capture_response", "capture_error")
            )
    return found


def test_no_decorator_turns_capturing_back_on():
    """A decorator's own capture_response=True would win over the environment."""
    assert {str(p.relative_to(ROOT)) for p in SOURCES} >= {
        f"functions/{n}/app.py" for n in ("web", "inbound_mail")
    }
    offending = {
        str(path.relative_to(ROOT)): arguments
        for path in SOURCES
        if (arguments := [a for a in _tracer_arguments(path) if a[2] is not False])
    }
    assert offending == {}
