"""Jinja templates compiled when the layer is built (layers/paperboy/compile_templates.py).

Lambda mounts the layer read-only, so every container would compile each template it uses (and
inline a mail template's CSS) on its first request: tens of milliseconds of a cold start. The layer
build writes each template as a Python module into a `compiled` folder beside the package that owns
it, which compileall turns into bytecode like any other module. Without that folder (the tests, a
developer's checkout) templates are compiled from source when first used.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from jinja2 import BaseLoader, ChoiceLoader, Environment, ModuleLoader

FOLDER = "compiled"


def loader(package_file: str, source: BaseLoader) -> BaseLoader:
    """The compiled templates beside `package_file` when the build wrote them, else `source`."""
    compiled = Path(package_file).parent / FOLDER
    return ChoiceLoader([ModuleLoader(compiled), source]) if compiled.is_dir() else source


def compile_into(package_file: str, environment: Environment, wanted: Callable[[str], bool]) -> None:
    """Compile the `wanted` templates `environment`'s loader lists into the folder `loader` reads."""
    environment.compile_templates(
        Path(package_file).parent / FOLDER, filter_func=wanted, zip=None, ignore_errors=False
    )
