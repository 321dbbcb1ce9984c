"""The pytest plugin (entry point `pytest11: actors`): an app's Lua test entries as pytest
items, and fixtures to boot an app and talk to its processes.

    pytest --actors-app myapp              # or, in pytest.ini / pyproject: actors_app = myapp

Each entry with `meta.type: test` becomes one item, `myapp/_index.yaml::SUITE::ENTRY_ID`,
so `-k`, `-x`, `--lf` and xdist work as for Python tests; `meta.skip` skips it, and a
failure shows the Lua file and line with the error and its stack. All items of an app share
one booted app (`actors_app`), booted at the first of them.

Fixtures:
- `actors_app`: the configured app booted (`BootedApp`), its embedded Temporal in memory;
- `temporal_env`: the app's Temporal server and client (`TemporalEnv`), or, for an app
  without a `temporal.client`, an embedded dev server started for the session;
- `actors_mailbox`: a fresh `Mailbox` of `actors_app`, a PID the test can receive on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from actors.commands.common import describe_error
from actors.commands.testing import Outcome
from actors.registry import Entry
from actors.testing.app import BootedApp, Mailbox, TemporalEnv, lua_error_location

INDEX = "_index.yaml"
_APPS = pytest.StashKey[dict[Path, BootedApp]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("actors", "actors apps")
    group.addoption(
        "--actors-app",
        action="append",
        default=[],
        metavar="APP",
        help="collect the test entries (meta.type: test) of this app folder (repeatable)",
    )
    group.addoption(
        "--actors-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds per Lua test entry (default 30, or the actors_timeout ini value)",
    )
    group.addoption(
        "--actors-temporal-address",
        default="embedded",
        metavar="ADDRESS",
        help="Temporal server of the booted app ('embedded', the default: in memory)",
    )
    parser.addini("actors_app", "app folders whose test entries pytest collects", type="paths")
    parser.addini("actors_timeout", "seconds per Lua test entry", default="30")


def app_dirs(config: pytest.Config) -> list[Path]:
    """The configured apps: `--actors-app` (relative to the invocation directory), else the
    `actors_app` ini value (relative to the ini file)."""
    given = [Path(p).resolve() for p in config.getoption("actors_app")]
    if given:
        return given
    return [Path(p).resolve() for p in config.getini("actors_app")]


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_APPS] = {}
    explicit = bool(config.getoption("actors_app"))
    for app in app_dirs(config):
        if not (app / INDEX).is_file():
            raise pytest.UsageError(f"actors app not found: no {INDEX} in {app}")
        # Collect the app when it was asked for, or when pytest collects its default paths.
        wanted = explicit or config.args_source != pytest.Config.ArgsSource.ARGS
        if wanted and not any(_within(app, Path(arg)) for arg in config.args):
            config.args.append(str(app))


def _within(path: Path, arg: Path) -> bool:
    arg = Path(str(arg).split("::")[0]).resolve()
    return path == arg or arg in path.parents


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name == INDEX and file_path.parent.resolve() in app_dirs(parent.config):
        return ActorsApp.from_parent(parent, path=file_path)
    return None


def pytest_unconfigure(config: pytest.Config) -> None:
    for app in config.stash.get(_APPS, {}).values():
        app.stop()


def booted(config: pytest.Config, app_dir: Path) -> BootedApp:
    """The session's booted app for `app_dir` (booted on first use, stopped at the end)."""
    apps = config.stash[_APPS]
    if app_dir not in apps:
        address = config.getoption("actors_temporal_address")
        apps[app_dir] = BootedApp(app_dir, temporal_address=address).start()
    return apps[app_dir]


class ActorsApp(pytest.File):
    """An app folder's `_index.yaml`: one `Suite` per `meta.suite`."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        from actors.commands.testing import select_tests
        from actors.runtime import AppRuntime

        runtime = AppRuntime.load(self.path.parent, settings={"command_mode": True})
        if runtime.errors:
            problems = "; ".join(str(e) for e in runtime.errors)
            raise self.CollectError(f"{self.path.parent}: {problems}")
        for suite, entries in select_tests(runtime, []).items():
            collector = Suite.from_parent(self, name=suite or "(no suite)")
            collector.entries = entries
            yield collector


class Suite(pytest.Collector):
    entries: list[Entry]

    def collect(self) -> Iterator[pytest.Item]:
        for entry in self.entries:
            yield LuaTestItem.from_parent(self, name=entry.id, entry_id=entry.id)


class LuaTestFailed(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


class LuaTestItem(pytest.Item):
    def __init__(self, *, entry_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entry_id = entry_id
        self.app_dir = self.path.parent.resolve()

    def runtest(self) -> None:
        app = booted(self.config, self.app_dir)
        entry = app.entry(self.entry_id)
        timeout = self.config.getoption("actors_timeout") or float(
            self.config.getini("actors_timeout")
        )
        outcome = app.run_test(entry, timeout)
        if outcome.status == "skipped":
            # Reported at the item (the app's _index.yaml), not at this line.
            raise pytest.skip.Exception(outcome.detail or "meta.skip", _use_item_location=True)
        if outcome.status == "failed":
            raise LuaTestFailed(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if not isinstance(excinfo.value, LuaTestFailed):
            return super().repr_failure(excinfo)
        outcome = excinfo.value.outcome
        lines = [f"{self.entry_id} failed: {outcome.detail}"]
        error = outcome.error
        where = lua_error_location(error) if error is not None else None
        if where is not None:
            lines.append(f"at {where}")
            source = _source_line(self.app_dir, where)
            if source:
                lines.append(f"    {source}")
        if error is not None and error.stack:
            lines.append(error.stack)
        elif error is not None:
            lines.append(describe_error(error))
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"lua test {self.entry_id}"


def _source_line(app_dir: Path, where: str) -> str | None:
    name, _, line = where.rpartition(":")
    path = app_dir / name
    try:
        return path.read_text().splitlines()[int(line) - 1].strip()
    except (OSError, IndexError, ValueError):
        return None


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def actors_app(request: pytest.FixtureRequest) -> BootedApp:
    """The configured app (the first one), booted once per session."""
    apps = app_dirs(request.config)
    if not apps:
        raise pytest.UsageError("actors_app needs --actors-app APP or the actors_app ini option")
    return booted(request.config, apps[0])


@pytest.fixture(scope="session")
def temporal_env(request: pytest.FixtureRequest) -> Iterator[TemporalEnv]:
    """The app's Temporal (when it has a client), else a dev server of the session's own."""
    if app_dirs(request.config):
        env = request.getfixturevalue("actors_app").temporal
        if env is not None:
            yield env
            return
    from temporal_host.embedded import EmbeddedServer

    server = EmbeddedServer()
    anyio.run(server.start)
    try:
        yield TemporalEnv(server.address, None)
    finally:
        anyio.run(server.stop)


@pytest.fixture
def actors_mailbox(actors_app: BootedApp) -> Mailbox:
    return actors_app.mailbox()
