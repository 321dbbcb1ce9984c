"""`http_client` from a handler, against this same server (a real socket both ways)."""

from __future__ import annotations

import socket

import httpx


def _fetch(client: httpx.Client, mode: str, url: str, **extra: str) -> httpx.Response:
    return client.get("/fetch", params={"mode": mode, "url": url, **extra})


def test_get_with_query_and_headers(client: httpx.Client) -> None:
    url = str(client.base_url) + "/api/hello"
    seen = _fetch(client, "get", url).json()
    body = '{"hello":"client"}'
    assert seen == {"status": 200, "body": body, "cors": "http://localhost:3000", "size": len(body)}


def test_post_with_a_body(client: httpx.Client) -> None:
    seen = _fetch(client, "post", str(client.base_url) + "/api/json").json()
    assert seen == {
        "status": 200,
        "body": '{"received":{"a":[1,2]}}',
        "json_option": '{"received":{"b":true}}',
    }


def test_streamed_response(client: httpx.Client) -> None:
    seen = _fetch(client, "stream", str(client.base_url) + "/chunks").json()
    assert seen["status"] == 200 and seen["size"] == -1
    assert seen["body"] == "part 1\npart 2\npart 3\n"
    assert seen["pieces"] >= 6  # read 4 bytes at a time


def test_reading_server_sent_events(client: httpx.Client) -> None:
    seen = _fetch(client, "sse", str(client.base_url) + "/events").json()
    assert seen["events"][:3] == [{"name": "tick", "data": f'{{"n":{i}}}'} for i in (1, 2, 3)]
    assert len(seen["events"]) == 4


def test_timeout_is_an_error_value(client: httpx.Client) -> None:
    seen = _fetch(client, "timeout", str(client.base_url) + "/stuck").json()
    assert seen["kind"] == "Timeout" and seen["retryable"] is True
    assert "timed out" in seen["message"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_refused_is_an_error_value(client: httpx.Client) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/"
    seen = _fetch(client, "refused", url).json()
    assert seen == {
        "kind": "Unavailable",
        "retryable": True,
        "message": f"connection refused: {url}",
    }


def test_bad_requests_are_refused_before_any_network(client: httpx.Client) -> None:
    seen = _fetch(client, "invalid", str(client.base_url)).json()
    assert seen["method"]["kind"] == "Invalid" and "BREW" in seen["method"]["message"]
    assert seen["scheme"]["kind"] == "Invalid" and "ftp://" in seen["scheme"]["message"]
    assert seen["option"]["message"] == "unknown option 'nonsense'"


def test_batch_reports_each_failure_in_place(client: httpx.Client) -> None:
    bad = f"http://127.0.0.1:{_closed_port()}/"
    seen = _fetch(client, "batch", str(client.base_url) + "/api/hello", bad=bad).json()
    assert seen["first"] == 200 and seen["second_missing"] is True
    assert seen["second_error"]["kind"] == "Unavailable"


def test_uri_helpers(client: httpx.Client) -> None:
    seen = _fetch(client, "uri", "").json()
    assert seen["encoded"] == "a+b%26c%3Dd%2F%C3%A9"
    assert seen["decoded"] == "a b&c"
    assert seen["nothing"] is True and seen["bad"]["kind"] == "Invalid"


def test_private_addresses_need_the_entry_allowance(client: httpx.Client) -> None:
    url = str(client.base_url) + "/api/hello"
    for target in (url, url.replace("127.0.0.1", "localhost")):
        seen = client.get("/fetch-denied", params={"url": target}).json()
        assert seen["kind"] == "PermissionDenied", seen
        assert seen["message"].startswith("not allowed: private IP ")
        assert "meta.http_client.allow_private" in seen["message"]
