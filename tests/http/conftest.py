"""Fixtures of the HTTP tests: the test app served on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.serving import ServedApp, served

APP = Path(__file__).parent / "app"


@pytest.fixture(scope="module")
def web() -> Iterator[ServedApp]:
    with served(APP) as app:
        assert app.runtime.errors == []
        yield app


@pytest.fixture
def client(web: ServedApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=web.url("web:server"), timeout=10) as c:
        yield c
