"""Every ```lua block in docs/ runs, and no link in docs/ leaves the repository.

The convention (GUIDE.md, "Docs convention"; docs/README.md says it for readers):

- by default a block is the body of a `process.lua` process, run on the terminal host of an
  otherwise empty app whose process may `require` every module we ship; it must not raise
  (and should `assert` what it shows);
- `<!-- snippet: app=examples/NAME entry=ENTRY_ID -->` on the line right before the fence:
  the block is the source of entry ENTRY_ID of that example app, character for character,
  and a test under tests/ runs that app's entry (it names both);
- `<!-- snippet: fragment -->`: a piece that cannot run alone; counted and listed, and there
  must stay few of them.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
import yaml

from actors.host import SpawnRequest
from actors.registry import load_app
from actors.runtime import AppRuntime
from lua_bindings.modules import module_names

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
TESTS = ROOT / "tests"
MAX_FRAGMENTS = 15
"""Fragments teach less than runnable code: keep them few (raise this only with a reason)."""
SNIPPET_TIMEOUT = 10.0

_MARKER = re.compile(r"<!--\s*snippet:\s*(?P<body>.*?)\s*-->")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_IMAGE = re.compile(r"!\[[^\]]*\]\((?P<target>[^)\s]+)\)")
_AUTOLINK = re.compile(r"<(?P<target>[a-z][a-z0-9+.-]*:[^>\s]+)>", re.IGNORECASE)
_BARE_URL = re.compile(r"\b(?:https?|ftp)://[^\s)>\]`'\"]+", re.IGNORECASE)
_LOOPBACK = re.compile(r"^(?:https?://)?(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?(?:/|$)")


@attrs.frozen
class Snippet:
    file: Path
    line: int
    code: str
    marker: str | None

    @property
    def id(self) -> str:
        return f"{self.file.relative_to(DOCS)}:{self.line}"

    @property
    def options(self) -> dict[str, str]:
        words = (self.marker or "").split()
        return dict(word.split("=", 1) for word in words if "=" in word)

    @property
    def is_fragment(self) -> bool:
        return (self.marker or "").split() == ["fragment"]


def markdown_files() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _fences(lines: list[str]) -> Iterator[tuple[int, int, str]]:
    """(first line index, closing line index, language) of every fenced block."""
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if stripped.startswith("```"):
            language = stripped[3:].strip()
            end = index + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            yield index, end, language
            index = end + 1
        else:
            index += 1


def snippets() -> list[Snippet]:
    found = []
    for file in markdown_files():
        lines = file.read_text(encoding="utf-8").splitlines()
        for start, end, language in _fences(lines):
            if language != "lua":
                continue
            marker = _MARKER.search(lines[start - 1]) if start else None
            code = textwrap.dedent("\n".join(lines[start + 1 : end])) + "\n"
            found.append(Snippet(file, start + 1, code, marker["body"] if marker else None))
    return found


SNIPPETS = snippets()
RUNNABLE = [s for s in SNIPPETS if s.marker is None]
FROM_APPS = [s for s in SNIPPETS if "app" in s.options]
FRAGMENTS = [s for s in SNIPPETS if s.is_fragment]


def test_every_marker_is_understood() -> None:
    unknown = [
        s.id
        for s in SNIPPETS
        if s.marker is not None and not s.is_fragment and set(s.options) != {"app", "entry"}
    ]
    assert not unknown, f"snippet markers neither 'fragment' nor 'app=... entry=...': {unknown}"


def test_fragments_are_few() -> None:
    listed = "\n".join(f"  {s.id}" for s in FRAGMENTS)
    print(f"{len(FRAGMENTS)} fragment(s) of {len(SNIPPETS)} Lua blocks:\n{listed}")
    assert len(FRAGMENTS) <= MAX_FRAGMENTS, listed


# -- runnable blocks --------------------------------------------------------------------------


def write_snippet_app(root: Path, code: str) -> Path:
    """An empty app with a terminal host and one process whose body is `code`."""
    root.mkdir(parents=True, exist_ok=True)
    body = textwrap.indent(code, "  ")
    source = f"local function main(...)\n{body}end\nreturn {{main = main}}\n"
    (root / "snippet.lua").write_text(source)
    index = {
        "version": "1.0",
        "namespace": "docs",
        "entries": [
            {"name": "terminal", "kind": "terminal.host"},
            {"name": "processes", "kind": "process.host"},
            {
                "name": "snippet",
                "kind": "process.lua",
                "source": "file://snippet.lua",
                "method": "main",
                "modules": list(module_names()),
            },
        ],
    }
    (root / "_index.yaml").write_text(yaml.safe_dump(index, sort_keys=False))
    return root


async def run_snippet(app_dir: Path) -> None:
    runtime = AppRuntime.load(app_dir, settings={"command_mode": True})
    runtime.node.shutdown_grace = 1.0
    async with runtime.node:
        await runtime.start(services=False)
        host = runtime.node.host("docs:terminal")
        pid = await runtime.node.spawn("docs:terminal", SpawnRequest(target="docs:snippet"))
        with anyio.fail_after(SNIPPET_TIMEOUT):
            event = await host.wait_exit(pid)
    assert event.error is None, f"the snippet raised: {event.error}"


@pytest.mark.parametrize("snippet", RUNNABLE, ids=[s.id for s in RUNNABLE])
def test_runnable_snippet(snippet: Snippet, tmp_path: Path) -> None:
    assert not runtime_load_problems(write_snippet_app(tmp_path / "app", snippet.code))
    anyio.run(run_snippet, tmp_path / "app")


def runtime_load_problems(app_dir: Path) -> list[str]:
    return [str(problem) for problem in load_app(app_dir).errors]


def test_a_failing_snippet_fails(tmp_path: Path) -> None:
    """The runner can fail: a false assertion in a block is reported."""
    app = write_snippet_app(tmp_path / "app", 'assert(1 + 1 == 3, "arithmetic")\n')
    with pytest.raises(AssertionError, match="arithmetic"):
        anyio.run(run_snippet, app)


# -- blocks that are the source of an example app's entry ------------------------------------


def _example(snippet: Snippet) -> tuple[Path, str]:
    options = snippet.options
    return ROOT / options["app"], options["entry"]


@pytest.mark.parametrize("snippet", FROM_APPS, ids=[s.id for s in FROM_APPS])
def test_snippet_is_the_source_of_an_example_entry(snippet: Snippet) -> None:
    app_dir, entry_id = _example(snippet)
    assert app_dir.is_dir(), f"{snippet.id}: no example app {app_dir.relative_to(ROOT)}"
    entry = load_app(app_dir).registry.get(entry_id)
    assert entry is not None, f"{snippet.id}: {entry_id} is not an entry of {app_dir.name}"
    source = entry.source_path()
    assert source is not None and source.is_file(), f"{snippet.id}: {entry_id} has no file"
    assert snippet.code.strip() == source.read_text(encoding="utf-8").strip(), (
        f"{snippet.id} differs from {source.relative_to(ROOT)}"
    )
    assert example_runs(app_dir, entry_id), (
        f"{snippet.id}: no test under tests/ runs {entry_id} of {app_dir.relative_to(ROOT)}"
    )


def example_runs(app_dir: Path, entry_id: str) -> bool:
    """Whether a test under tests/ runs the entry: it names the example app and the entry,
    or names an entry of that app whose source names this one (a caller that spawns it)."""
    registry = load_app(app_dir).registry
    tests = [
        test.read_text(encoding="utf-8")
        for test in TESTS.rglob("test_*.py")
        if test.name != Path(__file__).name
    ]
    tests = [text for text in tests if app_dir.name in text]

    def named(entry: Any) -> bool:
        return any(entry.id in text or f'"{entry.name}"' in text for text in tests)

    entry = registry.get(entry_id)
    if entry is None:
        return False
    if named(entry):
        return True
    for caller in registry:
        source = caller.source_path()
        if (
            caller.id != entry_id
            and source is not None
            and source.is_file()
            and named(caller)
            and entry_id in source.read_text(encoding="utf-8")
        ):
            return True
    return False


# -- links -----------------------------------------------------------------------------------


def _prose(text: str) -> str:
    """The text outside fenced blocks and inline code spans."""
    lines = text.splitlines()
    keep = [True] * len(lines)
    for start, end, _ in _fences(lines):
        for index in range(start, min(end + 1, len(lines))):
            keep[index] = False
    prose = "\n".join(line for line, kept in zip(lines, keep, strict=True) if kept)
    return re.sub(r"`[^`\n]*`", "", prose)


def link_problems(file: Path) -> list[str]:
    prose = _prose(file.read_text(encoding="utf-8"))
    problems = []
    links = (_LINK, _IMAGE, _AUTOLINK)
    targets = [m["target"] for pattern in links for m in pattern.finditer(prose)]
    for target in targets:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("//"):
            problems.append(f"{target} leaves the repository")
            continue
        path = target.split("#", 1)[0]
        if not path:
            continue
        resolved = (file.parent / path).resolve()
        if not resolved.is_relative_to(ROOT.resolve()):
            problems.append(f"{target} leaves the repository")
        elif not resolved.exists():
            problems.append(f"{target} does not exist")
    for pattern in links:
        prose = pattern.sub("", prose)
    for url in _BARE_URL.findall(prose):
        if not _LOOPBACK.match(url):
            problems.append(f"{url} leaves the repository")
    return problems


@pytest.mark.parametrize("file", markdown_files(), ids=lambda f: str(f.relative_to(DOCS)))
def test_no_link_leaves_the_repository(file: Path) -> None:
    assert not link_problems(file)


def test_the_link_check_can_fail(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "See [spec](../../shared/spec.md), [site](https://example.org/x), "
        "<https://example.org>, [gone](missing.md) and http://example.com.\n"
        "```sh\ncurl https://fine-in-code.example\n```\n"
    )
    problems = link_problems(page)
    assert len(problems) == 5, problems
