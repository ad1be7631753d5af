"""What `sam build` packages into the layer: what Lambda will import, compiled ahead of time.

`make test` builds before it tests; run alone, pytest skips these until `make build` has run."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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
    assert (LAYER / "paperboy" / "mail" / "outbound" / "templates").is_dir()
    assert (LAYER / "paperboy" / "web" / "templates").is_dir()


# -- every function within Lambda's size limit; the model only where texts are embedded ----------
BUILD = ROOT / ".aws-sam" / "build"
# Lambda's limit on a function's code and all its layers, unzipped.
UNZIPPED_LIMIT = 250 * 2**20


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def _unzipped_sizes() -> dict[str, int]:
    """Each function's code plus its layers (Globals' and its own), as `sam build` left them."""
    from samtranslator.yaml_helper import yaml_parse

    built = yaml_parse((BUILD / "template.yaml").read_text())
    resources = built["Resources"]
    global_layers = built.get("Globals", {}).get("Function", {}).get("Layers", [])
    sizes = {}
    for logical, spec in resources.items():
        if spec["Type"] != "AWS::Serverless::Function":
            continue
        layers = [*global_layers, *spec["Properties"].get("Layers", [])]
        folders = [BUILD / spec["Properties"]["CodeUri"]]
        folders += [BUILD / resources[layer["Ref"]]["Properties"]["ContentUri"] for layer in layers]
        sizes[logical] = sum(_size(folder) for folder in folders)
    return sizes


def test_every_function_with_its_layers_stays_under_lambdas_unzipped_limit() -> None:
    sizes = _unzipped_sizes()
    assert {"EmbedFunction", "SendDigestsFunction", "FetchPapersFunction"} <= sizes.keys()
    assert {name: size for name, size in sizes.items() if size >= UNZIPPED_LIMIT} == {}
    # Only the Embed function carries the model: the others are the main layer and their code.
    assert sizes["EmbedFunction"] > sizes["SendDigestsFunction"] + 40 * 2**20


def test_the_model_and_its_runtime_are_only_in_the_embed_layer() -> None:
    embed = BUILD / "EmbedLayer"
    assert (embed / "model" / "model.onnx").is_file() and (embed / "model" / "tokenizer.json").is_file()
    assert (embed / "python" / "onnxruntime").is_dir() and (embed / "python" / "tokenizers").is_dir()
    assert not (LAYER / "onnxruntime").exists() and not (LAYER / "tokenizers").exists()
    assert (LAYER / "numpy").is_dir() and not (LAYER / "numpy" / "f2py").exists()
    assert not list((LAYER / "numpy").rglob("tests"))


def test_the_built_embed_layer_embeds_with_nothing_but_the_two_layers() -> None:
    """Import paths as on Lambda (/opt/python: both layers), in an interpreter without site-packages."""
    import subprocess
    import sys

    model = str(BUILD / "EmbedLayer" / "model")
    script = (
        "from paperboy.semantic.embedding import Embedder\n"
        f"v = Embedder.load({model!r}).embed(['LiDAR', '3D point clouds', 'speech'])\n"
        "assert v[0] @ v[1] > v[0] @ v[2], v @ v.T\n"
        "import onnxruntime, tokenizers\n"
        "print(onnxruntime.__file__)\n"
    )
    environment = {"PYTHONPATH": f"{BUILD / 'EmbedLayer' / 'python'}:{LAYER}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path[:0] = {environment['PYTHONPATH'].split(':')!r}\n" + script,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(BUILD / "EmbedLayer" / "python"))


def test_the_built_layer_renders_the_pinned_digests_from_templates_compiled_at_build_time() -> None:
    """The layer's templates were compiled (and CSS-inlined) by the build: a container renders the
    same mail without compiling a template or loading the CSS inliner."""
    import subprocess
    import sys

    tests = ROOT / "tests"
    script = (
        "import sys\n"
        "import jinja2\n"
        "def refuse(*args, **kwargs):\n"
        "    raise AssertionError('a template was compiled at run time')\n"
        "jinja2.Environment.compile = refuse\n"
        "import test_digest_bytes as pinned\n"
        "from paperboy.mail.outbound import mailer\n"
        "from paperboy.web import pages\n"
        "mailer.secrets.token_hex = lambda octets: '0' * 2 * octets\n"
        "for name, raw in pinned.rendered_cases():\n"
        "    assert raw == (pinned.PINNED / f'{name}.eml').read_bytes(), name\n"
        "assert 'title' in pages.render(pages.Page(title='title', paragraphs=[]))\n"
        "print('css_inline' in sys.modules, mailer.__file__)\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path[:0] = {[str(LAYER), str(tests), str(tests / 'unit')]!r}\n" + script,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == [
        "False",
        str(LAYER / "paperboy" / "mail" / "outbound" / "mailer.py"),
    ]
