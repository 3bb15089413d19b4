"""Every relative link in the documentation, and every doc path cited in the code, resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Markdown pages a user reads: the entry point, the docs, the benchmark notes, the runbooks.
PAGES = sorted(
    {ROOT / "README.md", ROOT / "bench" / "README.md"}
    | set((ROOT / "docs").glob("*.md"))
    | set(ROOT.glob("*/runbooks/*.md"))
)
CODE = sorted(
    path
    for pattern in ("*/**/*.py", "scripts/*.sh", "*.yml", "*.toml", "Makefile", "Dockerfile")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts and "tests" not in path.parts
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CITED_DOC = re.compile(r"\bdocs/[\w./-]+\.md\b")


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    in_fence = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and (heading := re.match(r"#{1,6} (.+)", line)):
            text = heading.group(1).strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return anchors


def _links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    """A link names an existing file, and its #anchor a heading of that file."""
    broken = []
    for target in _links(page):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"{page.relative_to(ROOT)}: {broken}"


def test_every_doc_path_cited_in_code_exists() -> None:
    """A `docs/....md` named in a docstring, comment or script is a real page."""
    missing = {
        f"{path.relative_to(ROOT)}: {cited}"
        for path in CODE
        for cited in CITED_DOC.findall(path.read_text(encoding="utf-8", errors="replace"))
        if not (ROOT / cited).exists()
    }
    assert not missing


def test_readme_fits_on_a_screenful_or_two() -> None:
    """README.md stays a short entry point: at most 150 lines."""
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 150
