"""The HTTP server end to end: a real uvicorn on a free port, a real HTTP client."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import httpx
import pytest

from tests.http.serving import ServedApp


def test_fluent_response_is_returned_from_the_handler(client: httpx.Client) -> None:
    response = client.get("/api/hello", params={"name": "bob"})
    assert response.status_code == 200
    assert response.json() == {"hello": "bob"}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-total"] == "1"
    assert response.headers["content-length"] == str(len(response.content))


def test_reference_response_and_the_request(client: httpx.Client) -> None:
    response = client.post(
        "/api/echo/book/42?x=1&x=2&y=",
        content=b"payload",
        headers={"X-Custom": "c1", "Content-Type": "text/plain"},
    )
    assert response.status_code == 201
    assert response.headers["x-method"] == "POST"
    assert response.json() == {
        "method": "POST",
        "path": "/api/echo/book/42",
        "kind": "book",
        "params": {"kind": "book", "id": "42"},
        "query": {"x": "1,2", "y": ""},
        "header": "c1",
        "content_type": "text/plain",
        "length": 7,
        "body": "payload",
        "again": True,
        "remote": True,
    }


def test_a_literal_route_wins_over_a_parameter(client: httpx.Client) -> None:
    assert client.get("/api/users/me").json() == {"hello": "world"}


def test_malformed_json_body_is_an_error_value(client: httpx.Client) -> None:
    bad = client.post("/api/json", content=b'{"a": ', headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert bad.json()["kind"] == "Invalid"
    assert "invalid JSON body" in bad.json()["error"]
    good = client.post("/api/json", json={"a": [1, 2]})
    assert good.json() == {"received": {"a": [1, 2]}}
    empty = client.post("/api/json")
    assert empty.status_code == 400 and empty.json()["error"] == "request has no body"


def test_form_body(client: httpx.Client) -> None:
    response = client.post("/api/form", data={"a": "1", "b": "x y"})
    assert response.json() == {"a": "1", "b": "x y"}
    wrong = client.post("/api/form", json={"a": 1})
    assert wrong.status_code == 400 and "not a form body" in wrong.json()["error"]


def test_multipart_body(client: httpx.Client) -> None:
    response = client.post(
        "/api/upload",
        data={"title": "notes", "tag": ["a", "b"]},
        files={"doc": ("notes.txt", b"line one\nline two", "text/plain")},
    )
    assert response.json() == {
        "values": {"title": "notes", "tag": ["a", "b"]},
        "files": {
            "doc": {
                "name": "notes.txt",
                "size": 17,
                "type": "text/plain",
                "content": "line one\nline two",
                "count": 1,
            }
        },
    }
    wrong = client.post("/api/upload", json={"a": 1})
    assert wrong.status_code == 400 and "not multipart/form-data" in wrong.json()["error"]


def test_a_handler_that_raises_is_a_500_and_one_log_line(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="http_host"):
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error"}
    lines = [r for r in caplog.records if r.name.startswith("http_host")]
    assert len(lines) == 1
    assert "web:boom_fn" in lines[0].getMessage()
    assert "the handler broke" in lines[0].getMessage()
    assert client.get("/api/hello").status_code == 200  # still serving


def test_a_handler_that_never_returns_is_a_504(client: httpx.Client) -> None:
    response = client.get("/stuck")
    assert response.status_code == 504
    assert response.json() == {"error": "handler timed out"}
    assert client.get("/api/hello").status_code == 200


def test_unknown_path_is_404_and_wrong_method_405(client: httpx.Client) -> None:
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not found", "path": "/nowhere"}
    wrong = client.delete("/api/echo/a/1")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST, PUT"


def test_a_body_over_the_limit_is_413(client: httpx.Client) -> None:
    declared = client.post("/api/json", content=b"x" * 2000)
    assert declared.status_code == 413
    assert "larger than 1024 bytes" in declared.json()["error"]

    def chunks():  # no Content-Length: the server counts
        for _ in range(10):
            yield b"y" * 200

    streamed = client.post("/api/json", content=chunks())
    assert streamed.status_code == 413
    assert client.post("/api/json", json={"ok": True}).status_code == 200


MIB = 1024 * 1024


def _chunks(size: int, last: bytes = b"z"):  # no Content-Length: sent chunked
    piece = b"x" * (256 * 1024)
    sent = 0
    while sent + len(piece) < size:
        yield piece
        sent += len(piece)
    yield b"x" * (size - sent - 1) + last


def test_a_long_body_is_read_as_it_arrives(web: ServedApp) -> None:
    with httpx.Client(base_url=web.url("web:uploads"), timeout=30) as uploads:
        streamed = uploads.post("/stream", content=b"y" * (3 * MIB))
        assert streamed.json()["bytes"] == 3 * MIB
        assert streamed.json()["reads"] >= 3 * MIB // 65536
        whole = uploads.post("/body", content=_chunks(3 * MIB))
        assert whole.json() == {"bytes": 3 * MIB, "last": "z"}
        # past max_body (4 MiB) while the handler reads: 413, whatever the handler answers
        for path in ("/body", "/stream"):
            over = uploads.post(path, content=_chunks(5 * MIB))
            assert over.status_code == 413, over.text
            assert over.json() == {"error": "request body is larger than 4194304 bytes"}


def test_a_body_that_does_not_arrive_in_time_is_408(web: ServedApp) -> None:
    host, port = web.url("web:server").removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"a"'
        )
        answer = b""
        while b"in time" not in answer:  # the whole answer, however it is split
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"request body not received in time" in answer


def test_server_sent_events(client: httpx.Client) -> None:
    with client.stream("GET", "/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        text = "".join(response.iter_text())
    events = [block.split("\n") for block in text.strip().split("\n\n")]
    assert events[:3] == [["event: tick", f'data: {{"n":{i}}}'] for i in (1, 2, 3)]
    assert events[3] == ["event: late_status", 'data: {"kind":"Invalid"}']


def test_a_stream_ends_when_its_client_leaves(web: ServedApp, client: httpx.Client) -> None:
    host = web.runtime.node.host("web:server")
    with client.stream("GET", "/forever") as response:
        for line in response.iter_lines():
            if line.startswith("data: 3"):
                break
        assert len(host.processes) == 1  # the handler, streaming
    for _ in range(100):  # the next write fails, the handler returns
        if not host.processes:
            break
        time.sleep(0.05)
    assert not host.processes


def test_head_answers_without_a_body(client: httpx.Client) -> None:
    response = client.head("/api/hello")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"] == "application/json"


def test_chunked_streaming(client: httpx.Client) -> None:
    with client.stream("GET", "/chunks") as response:
        assert response.headers.get("transfer-encoding") == "chunked"
        body = b"".join(response.iter_bytes())
    assert body == b"part 1\npart 2\npart 3\n"


def test_a_parked_handler_does_not_block_the_others(web: ServedApp) -> None:
    result: dict[str, httpx.Response] = {}

    def wait() -> None:
        result["wait"] = httpx.get(web.url("web:server") + "/wait", timeout=10)

    waiter = threading.Thread(target=wait)
    waiter.start()
    with httpx.Client(base_url=web.url("web:server"), timeout=10) as client:
        for _ in range(200):  # until /wait has registered its name
            answer = client.get("/release", params={"who": "bob"}).json()
            if answer["sent"]:
                break
            assert client.get("/api/hello").status_code == 200  # served meanwhile
        assert answer["sent"], answer
    waiter.join(10)
    assert result["wait"].json() == {"released_by": "bob"}


def test_cors(client: httpx.Client) -> None:
    preflight = client.options(
        "/api/hello",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-max-age"] == "86400"
    actual = client.get("/api/hello", headers={"Origin": "http://localhost:5173"})
    assert actual.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert actual.headers["access-control-expose-headers"] == "X-Total"
    refused = client.get("/api/hello", headers={"Origin": "https://evil.example.org"})
    assert "access-control-allow-origin" not in refused.headers
    no_preflight = client.options(
        "/api/hello",
        headers={"Origin": "https://evil.example.org", "Access-Control-Request-Method": "GET"},
    )
    assert no_preflight.status_code == 405
    # the router without cors adds nothing
    plain = client.get("/chunks", headers={"Origin": "https://app.example.com"})
    assert "access-control-allow-origin" not in plain.headers


def test_static_files(client: httpx.Client) -> None:
    index = client.get("/static/")
    assert index.status_code == 200 and index.text == "<h1>home</h1>\n"
    assert index.headers["content-type"] == "text/html"
    css = client.get("/static/sub/site.css")
    assert css.text == "body { color: red }\n"
    assert css.headers["content-type"] == "text/css"
    assert css.headers["cache-control"] == "max-age=60"
    assert client.get("/static/missing.txt").status_code == 404
    assert client.get("/static/%2e%2e/handlers.lua").status_code == 404
    assert client.get("/static/../handlers.lua").status_code == 404


def test_requests_run_concurrently_as_processes(web: ServedApp) -> None:
    """Fifty clients at once all get their own answer."""

    async def many() -> list[dict]:
        import anyio

        out: list[dict] = []
        async with httpx.AsyncClient(base_url=web.url("web:server"), timeout=10) as client:

            async def one(i: int) -> None:
                response = await client.get("/api/hello", params={"name": str(i)})
                out.append(response.json())

            async with anyio.create_task_group() as group:
                for i in range(50):
                    group.start_soon(one, i)
        return out

    import anyio

    answers = anyio.run(many)
    assert sorted(int(a["hello"]) for a in answers) == list(range(50))
    assert json.dumps(answers)  # plain data
