"""The README and docs/ stay short, single-copy and true to the template and the code they name.

Merges once left the README with two copies of paragraphs, a stale diagram line, command-table rows
twice and an alarm count the template did not have: each test below fails on one such kind of damage.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
PACKAGE = ROOT / "layers" / "paperboy"
TEMPLATE = yaml_parse((ROOT / "template.yaml").read_text())
RESOURCES = TEMPLATE["Resources"]

FENCE = re.compile(r"^```")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\n]+)`")
REPO_ROOTS = ("tests/", "layers/", "functions/", "docs/", "events/")
# Two paragraphs opening with this many equal characters are two copies of one.
OPENING = 60


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _of_type(kind: str) -> list[str]:
    return [name for name, resource in RESOURCES.items() if resource["Type"] == kind]


def _blocks(text: str) -> list[list[str]]:
    """Paragraphs, list items, tables and code blocks, each as its lines (headings left out)."""
    blocks: list[list[str]] = []
    current: list[str] = []
    fenced = False

    def close() -> None:
        if current:
            blocks.append(current.copy())
            current.clear()

    for line in text.splitlines():
        if FENCE.match(line.strip()):
            if fenced:
                current.append(line)
                close()
            else:
                close()
                current.append(line)
            fenced = not fenced
            continue
        if fenced:
            current.append(line)
        elif not line.strip() or line.startswith("#"):
            close()
        else:
            if re.match(r"\s*(?:[-*]|\d+\.)\s", line):
                close()
            current.append(line)
    close()
    return blocks


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {
        _slug(line.lstrip("#"))
        for line in page.read_text().splitlines()
        if line.startswith("#") and not line.startswith("#!")
    }


def test_the_readme_stays_under_200_lines():
    assert len(README.read_text().splitlines()) <= 200


def test_the_docs_the_readme_promises_exist():
    names = {page.name for page in DOCS}
    expected = {"architecture.md", "ranking.md", "operations.md", "local-stack.md", "benchmarks.md"}
    assert expected | {"security.md"} <= names


def test_no_paragraph_appears_twice_across_readme_and_docs():
    """Nor two versions of one: a paragraph a merge kept in both its old and new wording starts alike."""
    seen: dict[str, list[str]] = {}
    for page in PAGES:
        for block in _blocks(page.read_text()):
            if len(block) < 2:
                continue
            opening = " ".join(" ".join(block).split())[:OPENING]
            seen.setdefault(opening, []).append(_name(page))
    assert {opening: where for opening, where in seen.items() if len(where) > 1} == {}


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_no_table_lists_a_row_twice(page):
    for block in _blocks(page.read_text()):
        if block[0].startswith("|"):
            firsts = Counter(row.split("|")[1].strip() for row in block[2:])
            assert [cell for cell, n in firsts.items() if n > 1] == [], block[0]


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_relative_link_points_to_an_existing_file_and_heading(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in _anchors(file)):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_repository_path_named_in_code_exists(page):
    missing = [
        token
        for token in CODE.findall(page.read_text())
        if token.startswith(REPO_ROOTS) and not re.search(r"[<*\s]", token) and not (ROOT / token).exists()
    ]
    assert missing == []


def _module_exists(dotted: str) -> bool:
    path = PACKAGE.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_module_path_named_exists(page):
    """`paperboy.digests.ranking` must be a module; a trailing CapWords name is an attribute of one."""
    missing = []
    for dotted in set(re.findall(r"\bpaperboy(?:\.\w+)+", page.read_text())):
        parts = dotted.split(".")
        if not _module_exists(dotted) and not (
            parts[-1][0].isupper() and _module_exists(".".join(parts[:-1]))
        ):
            missing.append(dotted)
    assert missing == []


def test_every_function_of_the_template_is_in_the_picture_and_the_architecture_doc():
    functions = [name.removesuffix("Function") for name in _of_type("AWS::Serverless::Function")]
    [picture] = [
        block for block in _blocks(README.read_text()) if FENCE.match(block[0]) and "──>" in block[1]
    ]
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    assert len(functions) >= 8
    assert [f for f in functions if not re.search(rf"\b{f}\b", "\n".join(picture))] == []
    assert [f for f in functions if f"| {f} |" not in architecture] == []


def test_the_alarm_count_in_the_docs_is_the_templates_and_each_alarm_has_a_runbook():
    alarms = _of_type("AWS::CloudWatch::Alarm")
    stated = [int(n) for page in PAGES for n in re.findall(r"\b(\d+) alarms\b", page.read_text())]
    operations = (ROOT / "docs" / "operations.md").read_text()
    assert stated
    assert set(stated) == {len(alarms)}
    assert [alarm for alarm in alarms if f"`{alarm}`" not in operations] == []


def test_every_runbook_an_alarm_names_is_in_the_operations_doc():
    runbooks = _anchors(ROOT / "docs" / "operations.md")
    named = {
        name: re.search(r'runbook "([^"]+)"', resource["Properties"]["AlarmDescription"])
        for name, resource in RESOURCES.items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert {
        name: match.group(1)
        for name, match in named.items()
        if match and _slug(match.group(1)) not in runbooks
    } == {}
    assert [name for name, match in named.items() if not match] == []


def test_every_parameter_an_operator_answers_is_in_the_readme():
    readme = README.read_text()
    assert [name for name in TEMPLATE["Parameters"] if f"`{name}`" not in readme] == []


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_no_figure_is_annotated_as_measured_on_other_code(page):
    """A figure is measured again or deleted, never left under a note that it predates the code."""
    stale = re.findall(r"before this (?:change|round)|not remeasured|measured before", page.read_text())
    assert stale == []


def _command_words(example: str) -> tuple[str, ...]:
    """What names a command in an example: `add topic x` -> (add, topic); `topics: a, b` -> (topics,)."""
    words = example.lower().replace(":", " ").split()
    return tuple(words[:2]) if words[0] in ("add", "remove") else (words[0],)


def test_every_command_of_the_catalogue_is_in_the_readme_table():
    from paperboy.mail.inbound.catalogue import CATALOGUE

    text = README.read_text()
    [table] = [block for block in _blocks(text) if block[0].startswith("| command | effect |")]
    documented = {_command_words(example) for row in table[2:] for example in CODE.findall(row.split("|")[1])}
    missing = [
        kind.value
        for kind, spec in CATALOGUE.items()
        if not any(_command_words(example) in documented for example in spec.examples)
    ]
    assert missing == []
