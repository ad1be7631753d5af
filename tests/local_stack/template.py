"""template.yaml, read the way CloudFormation would read it, for the local stack.

The local stack never keeps its own list of tables, queues or environment variables: it takes them
from the template, resolving `!Ref`, `!GetAtt`, `!Sub` and friends against the resources it created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


class TemplateError(Exception):
    """The template uses something the local stack cannot resolve."""


@dataclass
class Template:
    body: dict[str, Any]
    parameters: dict[str, str]
    pseudo: dict[str, str]
    # Logical id -> {"Ref": ..., "Arn": ..., "QueueUrl": ...}, filled in as resources are created.
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    # Where the stack serves each function that has a Function URL.
    function_urls: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        overrides: dict[str, str],
        path: Path = TEMPLATE,
        region: str = "us-east-1",
        account: str = "123456789012",
        stack_name: str = "paperboy-local",
    ) -> Template:
        body = yaml_parse(path.read_text())
        parameters: dict[str, str] = {}
        for name, spec in body.get("Parameters", {}).items():
            if name in overrides:
                parameters[name] = str(overrides[name])
            elif "Default" in spec:
                parameters[name] = str(spec["Default"])
            else:
                raise TemplateError(f"parameter {name} has no default and no local value")
        pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::StackName": stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
        }
        return cls(body=body, parameters=parameters, pseudo=pseudo)

    def resources(self, *types: str) -> dict[str, dict[str, Any]]:
        """Resources of the given types, in template order."""
        return {
            name: spec
            for name, spec in self.body.get("Resources", {}).items()
            if not types or spec.get("Type") in types
        }

    def globals_of(self, kind: str) -> dict[str, Any]:
        return self.body.get("Globals", {}).get(kind, {})

    def function_url(self, logical_id: str) -> str:
        if logical_id not in self.function_urls:
            raise TemplateError(f"no local server for {logical_id}'s Function URL")
        return self.function_urls[logical_id]

    def physical_name(self, logical_id: str) -> str:
        return f"{self.pseudo['AWS::StackName']}-{logical_id}"

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function inside `value`."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Fn::GetAtt":
                logical, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
                return self._attribute(logical, attribute)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if key == "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self.condition(condition) else when_false)
            if key.startswith("Fn::"):
                raise TemplateError(f"the local stack cannot resolve {key}")
        return {key: self.resolve(item) for key, item in value.items()}

    def condition(self, name: str) -> bool:
        spec = self.body.get("Conditions", {}).get(name)
        if spec is None:
            raise TemplateError(f"unknown condition {name}")
        return self._evaluate(spec)

    def _evaluate(self, spec: Any) -> bool:
        ((key, argument),) = spec.items()
        if key == "Fn::Equals":
            left, right = (self.resolve(side) for side in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._evaluate(argument[0])
        if key == "Fn::And":
            return all(self._evaluate(item) for item in argument)
        if key == "Fn::Or":
            return any(self._evaluate(item) for item in argument)
        if key == "Condition":
            return self.condition(argument)
        raise TemplateError(f"the local stack cannot evaluate condition {key}")

    def _ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        return self._attribute(name, "Ref")

    def _attribute(self, logical: str, attribute: str) -> str:
        try:
            return self.attributes[logical][attribute]
        except KeyError:
            raise TemplateError(f"{logical}.{attribute} is not available in the local stack") from None

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        resolved = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in resolved:
                return str(resolved[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return self._attribute(logical, attribute)
            return self._ref(name)

        return _SUB_VARIABLE.sub(replace, text)
