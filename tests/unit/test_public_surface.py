"""Each package names its public surface, loads nothing until a name is asked for, and the
handlers import only those names (issue 15: a handler depends on a package, not on its modules)."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import paperboy

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "paperboy"
PACKAGES = (
    "paperboy.papers",
    "paperboy.semantic",
    "paperboy.readers",
    "paperboy.digests",
    "paperboy.mail",
    "paperboy.mail.inbound",
    "paperboy.mail.outbound",
    "paperboy.web",
)
HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))


def _imports(tree: ast.AST) -> list[ast.ImportFrom | ast.Import]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom | ast.Import)]


def _type_checking_names(package: str) -> dict[str, tuple[str, str | None]]:
    """name -> (module, attribute) its `__init__`'s TYPE_CHECKING block imports it as; a submodule
    imported from the package itself is (the submodule, None)."""
    module = importlib.import_module(package)
    tree = ast.parse(Path(module.__file__ or "").read_text())
    block = next(
        node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    return {
        alias.asname or alias.name: (f"{package}.{alias.name}", None)
        if node.module == package
        else (str(node.module), alias.name)
        for node in _imports(block)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves_to_what_the_type_checkers_are_told(package: str) -> None:
    module = importlib.import_module(package)
    declared = _type_checking_names(package)
    assert sorted(module.__all__) == sorted(declared)
    for name, (home, attribute) in declared.items():
        found = importlib.import_module(home)
        assert getattr(module, name) is (found if attribute is None else getattr(found, attribute))
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError):
        _ = module.not_a_public_name


def test_importing_the_packages_loads_none_of_their_modules() -> None:
    script = f"import json, sys\nimport {', '.join(PACKAGES)}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={"PYTHONPATH": str(LAYER)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = {name for name in json.loads(done.stdout) if name.startswith("paperboy")}
    assert loaded == {"paperboy", "paperboy._exports", *PACKAGES}


def _public(source: str, name: str) -> bool:
    """Whether a handler may import `name` from `source`: a name in a package's `__all__`, or
    any public name of a module `paperboy.__all__` lists (settings, clock, wiring, telemetry)."""
    if source == "paperboy":
        return name in paperboy.__all__
    if source in PACKAGES:
        return name in importlib.import_module(source).__all__
    parent, _, leaf = source.rpartition(".")
    return parent == "paperboy" and leaf in paperboy.__all__ and not name.startswith("_")


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda path: path.parent.name)
def test_a_handler_imports_only_public_names(handler: Path) -> None:
    private = []
    for node in _imports(ast.parse(handler.read_text())):
        if isinstance(node, ast.Import):
            private += [alias.name for alias in node.names if alias.name.startswith("paperboy.")]
        elif (node.module or "").startswith("paperboy"):
            private += [
                f"{node.module}.{alias.name}"
                for alias in node.names
                if not _public(str(node.module), alias.name)
            ]
    assert private == []
