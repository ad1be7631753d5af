"""A package's public names, imported from their modules on first use (PEP 562).

Each package's `__init__` names its public surface, and a handler imports only those names; but a
package that imported its modules up front would load all of them into every cold start (the
readers package's settings would bring its store, the mail package its parser and templates).
Here a name's module is imported when the name is first asked for, and the name is then kept in
the package like any other attribute. A name equal to its module's name is that submodule itself.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy(
    package: str, modules: dict[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for `package`, whose public names live in `modules` (a module's
    name relative to the package -> the names it gives)."""
    home = {name: module for module, names in modules.items() for name in names}
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        found = importlib.import_module(f"{package}.{module}")
        value = found if name == module else getattr(found, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *home})

    return __getattr__, __dir__
