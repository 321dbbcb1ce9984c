"""The `actors` command line as a user meets it: each case runs the real command in a
subprocess and checks its exit code, its output, and that stderr never holds a traceback."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from actors import cli

ROOT = Path(__file__).parents[1]
APP = ROOT / "tests" / "apps" / "cli"
DEMO = ROOT / "examples" / "demo"


def actors(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "actors.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def one_line_failure(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The failure's only stderr line (after it has been checked to be alone)."""
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- options anywhere ------------------------------------------------------------------------


def test_options_after_positionals() -> None:
    result = actors("test", str(APP), "--timeout", "10", "passes")
    assert result.returncode == 0, result.stderr
    assert "1 passed, 0 failed" in result.stdout
    assert "hostless" not in result.stdout


def test_global_options_before_and_after_the_command() -> None:
    before = actors("--log-level", "error", "exec", str(APP), "cli:answer")
    after = actors("exec", str(APP), "cli:answer", "--log-level", "error")
    for result in (before, after):
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"answer": 42}
        assert result.stderr == ""


def test_words_after_the_entry_belong_to_the_process() -> None:
    result = actors("run", str(APP), "hello", "a", "--flag", "--", "-o", "x")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["a", "--flag", "-o", "x"]


def test_an_actors_option_after_the_entry_is_an_error() -> None:
    line = one_line_failure(actors("run", str(APP), "hello", "-o", "cli:hello:method=x"))
    assert line.startswith("actors: -o after hello: options of actors go before the entry")


# -- one line per failure --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "missing COMMAND"),
        (("bogus",), "unknown command 'bogus'"),
        (("run",), "required: APP_DIR"),
        (("test", str(APP), "--timeout", "soon"), "invalid float value: 'soon'"),
        (("exec", str(APP), "cli:answer", "--input", "{nope"), "--input is not valid JSON"),
        (("exec", str(APP), "cli:nothing"), "no entry or command named 'cli:nothing'"),
        (("exec", str(APP), "cli:terminal"), "cli:terminal is a terminal.host; expected"),
        (("run", "/nonexistent/app"), "app folder not found: /nonexistent/app"),
        (("test", str(APP), "no-such-test"), "no test entry in"),
    ],
)
def test_usage_mistakes_are_one_line(args: tuple[str, ...], message: str) -> None:
    assert message in one_line_failure(actors(*args))


def test_malformed_yaml_stops_the_run(tmp_path: Path) -> None:
    shutil.copytree(APP, tmp_path / "app")
    (tmp_path / "app" / "broken.yaml").write_text("namespace: more\nentries: [\n")
    line = one_line_failure(actors("run", str(tmp_path / "app")))
    assert "broken.yaml: malformed YAML" in line


@pytest.mark.parametrize("content", [None, "just: some settings\n"])
def test_a_folder_without_an_app_is_an_error(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / "settings.yaml").write_text(content)
    line = one_line_failure(actors("run", str(tmp_path)))
    assert line.endswith("holds no app: no YAML file with a namespace and entries")


def test_a_test_entry_without_a_host_fails_that_test_only() -> None:
    result = actors("test", str(APP))
    assert result.returncode == 1
    assert "FAIL cli:hostless" in result.stdout
    assert "names no meta.default_host and the app has 2 process.host entries" in result.stdout
    assert "1 passed, 1 failed" in result.stdout


# -- logs ------------------------------------------------------------------------------------


def test_process_print_and_log_show_by_default() -> None:
    result = actors("run", str(APP), "hello")
    assert result.returncode == 0, result.stderr
    assert re.search(r"INFO +app\.cli:hello: hello printed", result.stderr)
    assert "hello logged answer=42" in result.stderr
    assert "hello debug" not in result.stderr


def test_log_level() -> None:
    quiet = actors("run", "--log-level", "warning", str(APP), "hello")
    assert quiet.returncode == 0
    assert "hello" not in quiet.stderr
    loud = actors("--log-level", "debug", "run", str(APP), "hello")
    assert "hello debug" in loud.stderr


def test_exec_stdout_is_json_only_and_starts_no_services() -> None:
    result = actors("exec", str(APP), "cli:answer", "--input", '{"n": [1, 2]}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"answer": 42, "input": {"n": [1, 2]}}
    assert "answer printed" in result.stderr
    assert "service up" not in result.stderr
    assert "listening" not in result.stderr
    with_services = actors("exec", str(APP), "cli:answer", "--services")
    assert "service up" in with_services.stderr
    assert "http: cli:gateway listening on http://127.0.0.1:" in with_services.stderr


# -- signals ---------------------------------------------------------------------------------


class Running:
    """An `actors` subprocess whose stderr is read line by line as it comes."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "actors.cli", *args],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, matches: Callable[[str], bool], timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if matches(line):
                    return line
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.process.kill()
        raise AssertionError("".join(self.lines))

    def stop(self, signum: int, timeout: float = 30) -> tuple[int, str]:
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout)
        finally:
            self.process.kill()
        self._reader.join(5)
        return code, "".join(self.lines)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_cancels_local_processes(signum: int) -> None:
    running = Running("run", str(APP))
    running.wait_for(lambda line: "service up" in line)
    code, stderr = running.stop(signum)
    assert code == 0, stderr
    assert f"actors: {signal.Signals(signum).name}, stopping" in stderr
    assert "service got pid.cancel" in stderr
    assert "Traceback" not in stderr


def test_a_signal_stops_a_single_run_with_128_plus_its_number() -> None:
    """`actors run APP ENTRY` stopped by SIGTERM: the process gets CANCEL, exit 143."""
    running = Running("run", str(APP), "cli:waits")
    running.wait_for(lambda line: "waits up" in line)
    code, stderr = running.stop(signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, stderr
    assert "waits got pid.cancel" in stderr
    assert "Traceback" not in stderr


def processes_mentioning(text: str) -> list[int]:
    """PIDs of live processes whose command line contains `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


def test_sigterm_stops_the_embedded_worker_and_server(tmp_path: Path) -> None:
    app = tmp_path / "demo"
    shutil.copytree(DEMO, app, ignore=shutil.ignore_patterns(".actors"))
    database = str(app / ".actors" / "temporal.db")
    running = Running("run", str(app))
    running.wait_for(lambda line: "embedded dev server at" in line)
    assert processes_mentioning(database), "the dev server of this app should be running"
    code, stderr = running.stop(signal.SIGTERM)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert not processes_mentioning(database), "the dev server outlived the app"


@pytest.mark.parametrize(
    "failure",
    [
        ValueError("boom\nsecond line"),
        ExceptionGroup("two tasks failed", [ValueError("boom\nsecond line"), KeyError("k")]),
    ],
)
def test_an_unexpected_failure_is_one_line(
    failure: Exception, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failure nobody foresaw is still one line, with a hint (`-v` logs the traceback)."""

    class Broken:
        @staticmethod
        def command(args: argparse.Namespace) -> int:
            raise failure

    code = cli.run_command(argparse.Namespace(command="run", handler=Broken))
    assert code == 1
    assert capsys.readouterr().err == (
        "actors run: ValueError: boom second line (-v for details)\n"
    )


def test_runnable_kinds_and_default_hosts_come_from_plugins() -> None:
    """The commands ask the kind plugins; a kind no plugin runs is refused by name."""
    from actors.errors import ActorError
    from actors.kinds import KindPlugin, default_host, runnable_kinds, terminal_host
    from actors.registry import Entry, Registry

    plugin = KindPlugin(
        kinds={"thing.x", "thing.host"},
        runnable={"thing.x"},
        terminal={"thing.x"},
        default_host=lambda entry, registry: f"{entry.namespace}:things",
        terminal_host=lambda entry, registry: f"{entry.namespace}:screen",
    )
    entry = Entry.create("ns", "job", "thing.x")
    assert runnable_kinds([plugin]) == {"thing.x"}
    assert runnable_kinds([plugin], terminal=True) == {"thing.x"}
    assert default_host([plugin], entry, Registry()) == "ns:things"
    assert terminal_host([plugin], entry, Registry()) == "ns:screen"
    other = Entry.create("ns", "host", "thing.host")
    with pytest.raises(ActorError, match=r"ns:host is a thing\.host, which no installed plugin"):
        default_host([plugin], other, Registry())


def test_help_and_version() -> None:
    version = actors("--version")
    assert version.returncode == 0 and version.stdout.startswith("actors ")
    for args in (("--help",), ("run", "--help"), ("exec", "-h")):
        shown = actors(*args)
        assert shown.returncode == 0 and shown.stdout.startswith("usage: actors")


def test_the_program_ends_after_its_exit_handlers_with_its_streams_flushed(
    tmp_path: Path,
) -> None:
    """`exit_process` skips the interpreter's finalization (the Temporal SDK's threads can
    abort it) but not what a normal exit must do: atexit handlers, buffered output."""
    marker = tmp_path / "handler-ran"
    script = (
        "import atexit, sys\n"
        "from actors.cli import exit_process\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('yes'))\n"
        "sys.stdout.write('buffered, no newline')\n"
        "exit_process(3)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3
    assert result.stdout == "buffered, no newline"
    assert marker.read_text() == "yes"
