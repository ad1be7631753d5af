"""Handlers invoked as Lambda invokes them: imported once (a cold start) with the environment the
template gives the function, then called with an event and a context."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from aws_lambda_powertools.utilities import parameters

from local_stack.template import ROOT, Template

_INVOKE_LOCK = threading.RLock()
# What the Lambda runtime sets and the template cannot: there is no X-Ray daemon locally.
RUNTIME_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}


class _FunctionStdout(io.TextIOBase):
    """stdout while a handler runs. A logger created at import (powertools Logger) keeps the stdout it
    saw for the life of the process; this one outlives every stack and writes to the log of whichever
    function is running now, so a second stack's functions.log gets its lines too."""

    target: TextIO | None = None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return self.target.write(text) if self.target is not None else len(text)

    def flush(self) -> None:
        if self.target is not None:
            self.target.flush()


FUNCTION_STDOUT = _FunctionStdout()


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class LocalFunction:
    logical_id: str
    code_dir: Path
    handler_name: str
    environment: dict[str, str]
    events: dict[str, dict[str, Any]]
    memory: int
    arn: str
    log: TextIO
    _module: ModuleType | None = None
    invocations: int = 0

    @contextlib.contextmanager
    def _runtime(self) -> Iterator[None]:
        saved = dict(os.environ)
        os.environ.update(
            {**RUNTIME_ENVIRONMENT, **self.environment, "AWS_LAMBDA_FUNCTION_NAME": self.logical_id}
        )
        previous, FUNCTION_STDOUT.target = FUNCTION_STDOUT.target, self.log
        try:
            with contextlib.redirect_stdout(FUNCTION_STDOUT):
                yield
        finally:
            FUNCTION_STDOUT.target = previous
            os.environ.clear()
            os.environ.update(saved)

    def _load(self) -> ModuleType:
        # Each function is a process of its own on Lambda: its cold start never finds a secret that
        # another function's cold start cached (and tests/e2e/test_iam.py sees every fetch).
        parameters.clear_caches()
        module_file, _, _ = self.handler_name.rpartition(".")
        path = self.code_dir / f"{module_file.replace('.', '/')}.py"
        name = f"local_lambda_{self.logical_id}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader, path
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    @property
    def loaded(self) -> bool:
        return self._module is not None

    def reset(self, *, cold_start: bool) -> None:
        """Forget the module (its clients, caches and settings); `cold_start`: import it again now,
        as a function that had already started would have been by the time a fresh stack is handed over."""
        self._module = None
        if cold_start:
            with _INVOKE_LOCK, self._runtime():
                self._module = self._load()

    def invoke(self, event: dict[str, Any]) -> Any:
        # One invocation at a time: the environment is process-wide (the web server has threads).
        with _INVOKE_LOCK, self._runtime():
            if self._module is None:
                self._module = self._load()
            handler = getattr(self._module, self.handler_name.rpartition(".")[2])
            self.invocations += 1
            context = LambdaContext(self.logical_id, self.memory, self.arn)
            return handler(event, context)


def functions(template: Template, log: TextIO) -> dict[str, LocalFunction]:
    """Every AWS::Serverless::Function of the template, ready to invoke."""
    defaults = template.globals_of("Function")
    found = {}
    for logical, spec in template.resources("AWS::Serverless::Function").items():
        properties = spec["Properties"]
        variables = {
            **defaults.get("Environment", {}).get("Variables", {}),
            **properties.get("Environment", {}).get("Variables", {}),
        }
        environment = {key: str(value) for key, value in template.resolve(variables).items()}
        found[logical] = LocalFunction(
            logical_id=logical,
            code_dir=ROOT / properties["CodeUri"],
            handler_name=properties.get("Handler", defaults.get("Handler", "app.handler")),
            environment=environment,
            events=properties.get("Events", {}),
            memory=int(properties.get("MemorySize", defaults.get("MemorySize", 128))),
            arn=template.attributes[logical]["Arn"],
            log=log,
        )
    return found
