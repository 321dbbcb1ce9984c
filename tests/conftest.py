"""Shared pytest configuration: async tests run on asyncio (the backend Temporal needs)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
