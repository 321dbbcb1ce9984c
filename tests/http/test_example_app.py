"""`examples/http` (the app of docs/guide/http.md), served on a free port and called."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.serving import ServedApp, served

APP = Path(__file__).parents[2] / "examples" / "http"


@pytest.fixture(scope="module")
def example() -> Iterator[ServedApp]:
    with served(APP, overrides=["app:gateway:addr=127.0.0.1:0"]) as app:
        assert app.runtime.errors == []
        yield app


@pytest.fixture
def api(example: ServedApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=example.url(), timeout=10) as client:
        yield client


def test_hello_and_greet(api: httpx.Client) -> None:
    assert api.get("/api/hello").json() == {"message": "hello"}
    assert api.get("/api/greet/Ada", params={"punct": "!"}).json() == {"greeting": "Hello, Ada!"}


def test_echo(api: httpx.Client) -> None:
    created = api.post("/api/echo", json={"x": 1}, headers={"User-Agent": "tests"})
    assert created.status_code == 201
    assert created.headers["x-echo"] == "yes"
    assert created.json() == {"received": {"x": 1}, "from": "tests"}
    bad = api.post("/api/echo", content=b"{nope")
    assert bad.status_code == 400 and "invalid JSON body" in bad.json()["error"]


def test_clock_streams_events(api: httpx.Client) -> None:
    with api.stream("GET", "/api/clock") as response:
        text = "".join(response.iter_text())
    names = [line for line in text.splitlines() if line.startswith("event:")]
    assert names == ["event: tick"] * 3 + ["event: done"]


def test_proxy_calls_the_same_server(api: httpx.Client) -> None:
    assert api.get("/api/proxy").json() == {
        "upstream_status": 200,
        "upstream": {"message": "hello"},
    }


def test_static_site_and_cors(api: httpx.Client) -> None:
    page = api.get("/")
    assert page.status_code == 200 and "actors HTTP example" in page.text
    preflight = api.options(
        "/api/echo",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_a_known_path_with_another_method_is_405_not_a_file(api: httpx.Client) -> None:
    response = api.get("/api/echo")
    assert response.status_code == 405 and response.headers["allow"] == "POST"


HANDLERS = {
    ("GET", "/api/hello"): "app:hello",
    ("GET", "/api/greet/Ada"): "app:greet",
    ("POST", "/api/echo"): "app:echo",
    ("GET", "/api/clock"): "app:clock",
    ("GET", "/api/proxy"): "app:proxy",
}
"""The handler entry each request above runs (the docs show these entries' sources)."""


def test_each_request_runs_the_documented_handler(example: ServedApp) -> None:
    table = example.servers["app:gateway"].table
    for (method, path), handler in HANDLERS.items():
        match = table.match(method, path)
        assert match.route is not None and match.route.endpoint.func == handler
