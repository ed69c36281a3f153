"""The README's layout table and docs/architecture.md name files and folders that exist.

A newcomer reads the layout in those two places first; a module moved or renamed without updating
them would send people looking for code that is not there.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_CODE = re.compile(r"`([^`\s]+)`")


def _table_rows(text: str, heading: str) -> list[list[str]]:
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|") and not set(line) <= {"|", "-", " "}
    ][1:]


def _looks_like_path(token: str) -> bool:
    return token.endswith((".py", "/")) and not token.startswith(("-", "$", "http"))


def test_readme_layout_names_existing_folders() -> None:
    rows = _table_rows((ROOT / "README.md").read_text(encoding="utf-8"), "## Layout")
    assert rows, "README.md has no layout table"
    for row in rows:
        for token in _CODE.findall(" ".join(row)):
            if _looks_like_path(token) and "/" in token.rstrip("/"):
                assert (ROOT / token).exists(), f"README layout names {token}, which does not exist"
        folder = _CODE.findall(row[0])[0]
        assert (ROOT / folder).is_dir(), f"README layout row {folder} is not a folder"


def test_architecture_doc_names_existing_modules() -> None:
    rows = _table_rows(
        (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"), "## Where each step lives"
    )
    assert len(rows) >= 8
    for row in rows:
        packages = [ROOT / t for t in _CODE.findall(row[1])]
        for package in packages:
            assert package.exists(), (
                f"docs/architecture.md names {package.relative_to(ROOT)}, which does not exist"
            )
        roots = [p if p.is_dir() else p.parent for p in packages]
        for token in _CODE.findall(row[2]):
            if not _looks_like_path(token):
                continue
            name = token.rstrip("/")
            found = any((r / name).exists() or any(r.rglob(name)) for r in roots)
            assert found, (
                f"docs/architecture.md lists {token} under {row[1]}, but no such file or folder is there"
            )


def test_no_module_over_500_lines() -> None:
    """Issue 10: modules stay small enough to hold one concern each."""
    long = {
        str(path.relative_to(ROOT)): n
        for package in ("curation", "training", "ui")
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}, f"modules over 500 lines (split them by concern): {long}"
