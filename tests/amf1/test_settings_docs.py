"""docs/settings.md documents every package's settings exactly as the models declare them, and
each variable is declared once."""

from __future__ import annotations

import inspect
from collections import Counter

from amf1.settings_tools.docs import (
    PACKAGES,
    PAGE,
    declaring_class,
    main,
    page,
    settings_class,
)
from logshipping.settings_base import variables


def _own_annotations() -> Counter[str]:
    """Field names in the own annotations of every class behind every package's settings."""
    classes = {base for package in PACKAGES for base in settings_class(package).__mro__}
    return Counter(
        name
        for cls in classes
        for name in inspect.get_annotations(cls)
        if name not in {"model_config", "flat_variables", "_arguments"}
        and not name.startswith("__")
    )


def test_settings_page_is_in_sync_with_the_models() -> None:
    """Regenerate with `python -m amf1.settings_tools.docs` when this fails."""
    assert main(["--check"]) == 0
    assert PAGE.read_text(encoding="utf-8") == page()


def test_each_field_is_declared_in_one_class_only() -> None:
    """A second declaration of a field name (same or other type, same or other default) fails."""
    twice = {name: count for name, count in _own_annotations().items() if count > 1}
    assert twice == {}


def test_each_variable_has_one_name_and_a_description() -> None:
    """Flat (nested) variable names collide with no field name; every variable is described."""
    owners: dict[str, type] = {}
    for package in PACKAGES:
        cls = settings_class(package)
        for variable in variables(cls):
            assert variable.field.description, f"{variable.name} has no description"
            owner = owners.setdefault(variable.name, declaring_class(cls, variable))
            assert owner is declaring_class(cls, variable), f"{variable.name} is declared twice"


def test_every_variable_of_every_package_is_on_the_page() -> None:
    """Each package has its section; every variable name appears."""
    text = page()
    for package in PACKAGES:
        assert f"### {package} (" in text
        assert all(f"`{v.name}`" in text for v in variables(settings_class(package)))
