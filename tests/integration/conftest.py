"""Every test under tests/integration is an integration test: it needs the real stack.

The fixtures themselves (`stack`, `es`, `stack_control`) live in tests/conftest.py so that an
integration-marked test elsewhere can use them too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of this directory `integration` even where a module forgot to."""
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)
