"""actors.testing as a user meets it: the sample project examples/testing run by pytest as
its own project, the pytest plugin's items and reports, and `actors replay` / `actors test
--record` on the command line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from actors import cli

ROOT = Path(__file__).parents[1]
PROJECT = ROOT / "examples" / "testing"
APP = PROJECT / "shop"


def pytest_in(cwd: Path, *args: str, cache: bool = False) -> subprocess.CompletedProcess[str]:
    no_cache = [] if cache else ["-p", "no:cacheprovider"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *no_cache, "-q", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def actors(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """`actors ARGS...` in this process (the CLI's own main), as a finished process."""
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["actors", *args], code, out, err)


def test_the_sample_project_passes_its_own_tests() -> None:
    """Lua entries of shop/ (collected through pytest.ini) and the Python tests: the custom
    host passes the machine, the broken one is caught and shrunk, the history replays."""
    result = pytest_in(PROJECT, "-rA")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "PASSED shop/_index.yaml::cart::shop:test_cart" in out
    assert "PASSED shop/_index.yaml::checkout::shop:test_checkout" in out
    assert "PASSED tests/test_hosts.py::test_the_machine_finds_and_shrinks_the_broken_host" in out
    assert "PASSED tests/test_replay.py::test_recorded_histories_replay" in out
    assert out.strip().splitlines()[-1].startswith("9 passed")


def _failing_app(tmp_path: Path) -> Path:
    """An app without Temporal (quick to boot): two passing Lua tests and a failing one."""
    app = tmp_path / "calc"
    app.mkdir()
    (app / "_index.yaml").write_text(
        'version: "1.0"\nnamespace: calc\nentries:\n'
        "  - {name: processes, kind: process.host}\n"
        "  - {name: adds, kind: function.lua, source: file://tests.lua, method: adds,\n"
        "     meta: {type: test, suite: math}}\n"
        "  - {name: divides, kind: function.lua, source: file://tests.lua, method: divides,\n"
        "     meta: {type: test, suite: math}}\n"
        "  - {name: rounds, kind: function.lua, source: file://tests.lua, method: rounds,\n"
        "     meta: {type: test, suite: rounding, skip: not written yet}}\n"
    )
    (app / "tests.lua").write_text(
        "local function check(cond, what)\n"
        "  assert(cond, what)\n"
        "end\n"
        "local function adds() check(1 + 1 == 2, 'adds') return true end\n"
        "local function divides() check(7 // 2 == 3.5, 'seven halves') return true end\n"
        "local function rounds() return true end\n"
        "return {adds = adds, divides = divides, rounds = rounds}\n"
    )
    return app


def test_lua_tests_are_pytest_items(tmp_path: Path) -> None:
    app = _failing_app(tmp_path)
    result = pytest_in(tmp_path, "--actors-app", "calc", "-rA", cache=True)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "PASSED calc/_index.yaml::math::calc:adds" in out
    assert "SKIPPED" in out and "not written yet" in out
    # The failure names the Lua file and line, shows it, and the stack down to the caller.
    assert "calc:divides failed: [Internal] tests.lua:2: seven halves" in out
    assert "at tests.lua:2\n    assert(cond, what)" in out
    assert "tests.lua:5: in" in out
    assert re.match(r"1 failed, 1 passed, 1 skipped in [\d.]+s$", out.strip().splitlines()[-1])

    selected = pytest_in(tmp_path, "--actors-app", "calc", "-k", "adds")
    assert selected.returncode == 0 and "1 passed, 2 deselected" in selected.stdout

    # --lf (the first run kept its cache) reruns the failing entry alone, -x stops there.
    rerun = pytest_in(tmp_path, "--actors-app", str(app), "--lf", "-x", cache=True)
    assert "1 failed, 2 deselected" in rerun.stdout, rerun.stdout


def test_a_missing_app_is_a_usage_error(tmp_path: Path) -> None:
    result = pytest_in(tmp_path, "--actors-app", "nowhere")
    assert result.returncode == 4
    assert "actors app not found: no _index.yaml in" in result.stderr


def test_record_then_replay_then_break_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`actors test --record DIR` saves the histories of the workflows the tests ran;
    `actors replay` accepts them, and reports a change that would break them."""
    app = shutil.copytree(APP, tmp_path / "shop")
    recorded = actors(capsys, "test", str(app), "checkout", "--record", str(tmp_path / "h"))
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert "recorded 1 workflow histories" in recorded.stdout
    (history,) = sorted((tmp_path / "h").glob("*.json"))
    assert json.loads(history.read_text())["workflow_type"] == "shop:checkout"

    ok = actors(capsys, "replay", str(app), str(history))
    assert ok.returncode == 0 and "1 replayed, 0 did not replay" in ok.stdout, ok.stdout

    # A new first activity: workflows in flight would take another path.
    index = app / "_index.yaml"
    index.write_text(
        index.read_text().replace(
            "  - name: checkout\n",
            "  - name: loyalty\n    kind: function.lua\n    source: file://price.lua\n"
            "    method: price\n    meta: {temporal: {activity: {worker: worker}}}\n"
            "  - name: checkout\n",
        )
    )
    checkout = app / "checkout.lua"
    checkout.write_text(
        checkout.read_text().replace(
            "  local total = 0\n", '  local total = funcs.call("shop:loyalty", "apple")\n'
        )
    )
    broken = actors(capsys, "replay", str(app), str(history))
    assert broken.returncode == 1, broken.stdout + broken.stderr
    out = broken.stdout
    workflow_id = json.loads(history.read_text())["workflow_id"]
    assert f"FAIL  workflow {workflow_id!r} (shop:checkout) does not replay at event 5" in out
    assert "recorded: activity shop:price" in out
    assert "replayed: activity shop:loyalty, issued at checkout.lua:6" in out
    assert 'funcs.call("shop:loyalty", "apple")' in out
    assert 'if workflow.version("<change-id>", 1, 2) == 1 then' in out
    assert "0 replayed, 1 did not replay" in out


def test_replay_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "name a HISTORY.json" in actors(capsys, "replay", str(APP)).stderr
    no_server = actors(capsys, "replay", str(APP), "--workflow-id", "w1")
    assert no_server.returncode == 2 and "needs --temporal-address" in no_server.stderr
    (tmp_path / "bad.json").write_text('{"nothing": 1}')
    bad = actors(capsys, "replay", str(APP), str(tmp_path / "bad.json"))
    assert bad.returncode == 2 and "no 'events' list" in bad.stderr
