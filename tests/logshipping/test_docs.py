"""docs/logging.md documents the catalogue exactly as the code defines it."""

from __future__ import annotations

from logshipping import CATALOGUE
from logshipping.docs import PAGE, catalogue_table, main, with_table


def test_the_catalogue_table_is_in_sync_with_the_code() -> None:
    """Regenerate with `python -m logshipping.docs` when this fails."""
    assert main(["--check"]) == 0
    assert catalogue_table() in PAGE.read_text(encoding="utf-8")


def test_table_has_one_row_per_action_with_its_required_fields() -> None:
    """Every action, its level and every required field name appear."""
    table = catalogue_table()
    for action, spec in CATALOGUE.items():
        (row,) = [line for line in table.splitlines() if line.startswith(f"| `{action.value}` |")]
        assert f"| {spec.level} |" in row
        assert all(f"`{name}`" in row for name in spec.required)


def test_regenerating_replaces_only_the_table() -> None:
    """Text around the markers is kept."""
    text = PAGE.read_text(encoding="utf-8")
    assert with_table(text) == text
