"""The Lua-level test apps under tests/apps, run through `actors test` as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

APPS = Path(__file__).parent / "apps"


@pytest.mark.parametrize("app", ["core"])
def test_lua_app_passes(app: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "actors.cli", "test", str(APPS / app)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    last = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, result.stdout + result.stderr
    assert last.endswith(" 0 failed"), last
    assert not last.startswith("0 passed"), last
