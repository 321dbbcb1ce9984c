"""Tests for the app registry loader (`actors.registry`) and kind plugins (`actors.kinds`)."""

from __future__ import annotations

import logging
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from actors import kinds
from actors.errors import ALREADY_EXISTS, INVALID, NOT_FOUND, ActorError
from actors.registry import (
    Entry,
    LoadError,
    Registry,
    apply_overrides,
    apply_typed_overrides,
    load_app,
    parse_override,
    resolve_env,
)


def write(root: Path, rel: str, text: str) -> Path:
    """Write a dedented file below `root`, creating folders."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(root: Path, **kwargs):
    kwargs.setdefault("env", {})
    return load_app(root, **kwargs)


# --------------------------------------------------------------------------------------------
# Layout


def test_wippy_lock_redirects_to_source_folder(tmp_path: Path) -> None:
    write(tmp_path, "wippy.lock", "directories: {modules: .wippy, src: ./code}\n")
    write(tmp_path, "code/_index.yaml", "namespace: app\nentries: [{name: a, kind: x.y}]\n")
    write(tmp_path, "src/_index.yaml", "namespace: other\nentries: [{name: b, kind: x.y}]\n")
    app = load(tmp_path)
    assert app.root == tmp_path / "code"
    assert [e.id for e in app.registry] == ["app:a"]
    assert app.errors == []


def test_wippy_lock_defaults_to_src(tmp_path: Path) -> None:
    write(tmp_path, "wippy.lock", "version: 1\n")
    write(tmp_path, "src/_index.yaml", "namespace: app\nentries: [{name: a, kind: k}]\n")
    app = load(tmp_path)
    assert app.root == tmp_path / "src"
    assert "app:a" in app.registry


def test_wippy_lock_modules_folder_is_scanned_too(tmp_path: Path) -> None:
    write(tmp_path, "wippy.lock", "directories: {modules: .wippy, src: src}\n")
    write(tmp_path, "src/_index.yaml", "namespace: app\nentries: [{name: a, kind: k}]\n")
    write(tmp_path, ".wippy/test/_index.yaml", "namespace: wippy.test\nname: t\nkind: k\n")
    app = load(tmp_path)
    assert [e.id for e in app.registry] == ["app:a", "wippy.test:t"]


def test_missing_source_folder_is_a_load_error(tmp_path: Path) -> None:
    write(tmp_path, "wippy.lock", "directories: {src: nowhere}\n")
    app = load(tmp_path)
    assert len(app.registry) == 0
    assert len(app.errors) == 1
    assert "nowhere" in str(app.errors[0])


def test_missing_app_folder_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(ActorError) as info:
        load(tmp_path / "absent")
    assert info.value.kind == NOT_FOUND


def test_nested_index_and_other_definition_files(tmp_path: Path) -> None:
    write(tmp_path, "_index.yaml", "namespace: app\nentries: [{name: root, kind: k}]\n")
    write(
        tmp_path,
        "api/v2/_index.yaml",
        """
        version: "1.0"
        namespace: app.api.v2
        entries:
          - name: get_user.endpoint
            kind: http.endpoint
          - name: list_users
            kind: http.endpoint
        """,
    )
    write(tmp_path, "api/handlers.yml", "namespace: app.api\nentries: [{name: h, kind: k}]\n")
    app = load(tmp_path)
    assert [e.id for e in app.registry] == [
        "app.api.v2:get_user.endpoint",
        "app.api.v2:list_users",
        "app.api:h",
        "app:root",
    ]
    entry = app.registry.get("app.api.v2:get_user.endpoint")
    assert entry is not None
    assert (entry.namespace, entry.name, entry.kind) == (
        "app.api.v2",
        "get_user.endpoint",
        "http.endpoint",
    )
    assert entry.file == tmp_path / "api/v2/_index.yaml"


def test_single_entry_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "db.yaml",
        """
        version: "1.0"
        namespace: app
        name: db
        kind: db.sql.sqlite
        meta: {title: Database}
        file: ./data.db
        """,
    )
    entry = load(tmp_path).registry.get("app:db")
    assert entry is not None
    assert entry.kind == "db.sql.sqlite"
    assert entry.meta == {"title": "Database"}
    assert entry.data == {"file": "./data.db"}


def test_non_definition_yaml_is_ignored(tmp_path: Path) -> None:
    write(tmp_path, "config.yaml", "server: {port: 8080}\n")
    write(tmp_path, "list.yaml", "- 1\n- 2\n")
    write(tmp_path, "no_namespace.yaml", "entries: [{name: a, kind: k}]\n")
    write(tmp_path, "namespace_only.yaml", "namespace: app\ntitle: x\n")
    write(tmp_path, "empty.yaml", "")
    write(tmp_path, "notes.txt", "namespace: app\nname: a\nkind: k\n")
    app = load(tmp_path)
    assert len(app.registry) == 0
    assert app.errors == []


def test_hidden_and_actors_folders_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, ".hidden/_index.yaml", "namespace: h\nname: a\nkind: k\n")
    write(tmp_path, ".actors/_index.yaml", "namespace: s\nname: a\nkind: k\n")
    write(tmp_path, "ok/_index.yaml", "namespace: ok\nname: a\nkind: k\n")
    assert [e.id for e in load(tmp_path).registry] == ["ok:a"]


def test_skip_test_dirs(tmp_path: Path) -> None:
    write(tmp_path, "_index.yaml", "namespace: app\nname: a\nkind: k\n")
    write(tmp_path, "tests/_index.yaml", "namespace: app.tests\nname: t\nkind: k\n")
    write(tmp_path, "lib/fixtures/_index.yaml", "namespace: app.fx\nname: f\nkind: k\n")
    write(tmp_path, "lib/_index.yaml", "namespace: app.lib\nname: l\nkind: k\n")
    assert len(load(tmp_path).registry) == 4
    app = load(tmp_path, env={"SKIP_TEST_DIRS": "tests, fixtures"})
    assert [e.id for e in app.registry] == ["app.lib:l", "app:a"]


def test_skip_test_dirs_from_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "tests/_index.yaml", "namespace: app.tests\nname: t\nkind: k\n")
    monkeypatch.setenv("SKIP_TEST_DIRS", "tests")
    assert len(load_app(tmp_path).registry) == 0


# --------------------------------------------------------------------------------------------
# Entries


def test_entry_fields_refs_and_source(tmp_path: Path) -> None:
    write(
        tmp_path,
        "api/_index.yaml",
        """
        namespace: app.api
        entries:
          - name: get_user
            kind: function.lua
            meta: {type: handler}
            source: file://handlers/get_user.lua
            method: handler
            modules: [sql, json]
            imports: {utils: app.lib:utils, local: helpers}
          - name: no_source
            kind: library.lua
        """,
    )
    registry = load(tmp_path).registry
    entry = registry.get("app.api:get_user")
    assert entry is not None
    assert entry.data == {
        "source": "file://handlers/get_user.lua",
        "method": "handler",
        "modules": ["sql", "json"],
        "imports": {"utils": "app.lib:utils", "local": "helpers"},
    }
    assert entry.source_path() == tmp_path / "api/handlers/get_user.lua"
    assert entry.resolve_ref("helpers") == "app.api:helpers"
    assert entry.resolve_ref("app.lib:utils") == "app.lib:utils"
    no_source = registry.get("app.api:no_source")
    assert no_source is not None
    assert no_source.source_path() is None


def test_registry_lookups(tmp_path: Path) -> None:
    write(
        tmp_path,
        "_index.yaml",
        """
        namespace: app
        entries:
          - {name: b, kind: temporal.worker, meta: {temporal: {workflow: {worker: app:w}}}}
          - {name: a, kind: workflow.lua, meta: {temporal: {workflow: {worker: app:w}}}}
          - {name: c, kind: temporal.client, meta: {type: client}}
          - {name: d, kind: function.lua, meta: {type: handler}, method: run}
        """,
    )
    registry = load(tmp_path).registry
    assert registry.get("app:missing") is None
    assert "app:a" in registry and "app:zzz" not in registry
    assert [e.id for e in registry.by_kind("temporal")] == ["app:b", "app:c"]
    assert [e.id for e in registry.by_kind("temporal.client")] == ["app:c"]
    assert [e.id for e in registry.by_kind("*.lua")] == ["app:a", "app:d"]
    assert registry.by_kind("temp") == []
    found = registry.find({"meta.temporal.workflow.worker": "app:w"})
    assert [e.id for e in found] == ["app:a", "app:b"]
    found = registry.find({"meta.temporal.workflow.worker": "app:w", "kind": "workflow.lua"})
    assert [e.id for e in found] == ["app:a"]
    assert [e.id for e in registry.find({"meta.type": "handler"})] == ["app:d"]
    assert [e.id for e in registry.find({".kind": "function.lua", ".ns": "app"})] == ["app:d"]
    assert [e.id for e in registry.find({"method": "run"})] == ["app:d"]
    assert [e.id for e in registry.find({"data.method": "run"})] == ["app:d"]
    assert [e.id for e in registry.find({"id": "app:c", "name": "c"})] == ["app:c"]
    assert registry.find({"meta.type.deeper": "x"}) == []
    assert registry.find({"meta.nothing": None}) == []


def test_registry_add_and_remove() -> None:
    registry = Registry()
    entry = Entry.create("app", "x", "k", meta={"a": 1})
    registry.add(entry)
    assert registry.get("app:x") == entry
    with pytest.raises(ActorError) as info:
        registry.add(entry)
    assert info.value.kind == ALREADY_EXISTS
    registry.add(Entry.create("app", "x", "k2"), replace=True)
    assert registry.get("app:x").kind == "k2"
    registry.add(Entry.create("app", "a", "k"))
    assert [e.id for e in registry] == ["app:a", "app:x"]
    assert registry.remove("app:x") is not None
    assert registry.remove("app:x") is None
    assert [e.id for e in registry] == ["app:a"]
    assert len({Entry.create("n", "e", "k", {"m": 1}), Entry.create("n", "e", "k", {"m": 1})}) == 1


def test_source_path_forms(tmp_path: Path) -> None:
    file = tmp_path / "lib" / "_index.yaml"
    assert Entry.create("a", "b", "k", data={"source": "x.lua"}, file=file).source_path() == (
        tmp_path / "lib" / "x.lua"
    )
    assert Entry.create("a", "b", "k", data={"source": "https://h/x.lua"}).source_path() is None


def test_lifecycle_requires_and_depends_on(tmp_path: Path) -> None:
    write(
        tmp_path,
        "_index.yaml",
        """
        namespace: app
        entries:
          - name: svc
            kind: process.service
            lifecycle:
              auto_start: true
              requires: [app:database, cache]
              depends_on: [app:database, other.ns:queue]
          - name: legacy
            kind: process.service
            lifecycle: {depends_on: db}
          - name: plain
            kind: process.host
        """,
    )
    registry = load(tmp_path).registry
    svc, legacy, plain = (registry.get(f"app:{n}") for n in ("svc", "legacy", "plain"))
    assert svc.auto_start is True
    assert svc.requires == ["app:database", "app:cache", "other.ns:queue"]
    assert legacy.auto_start is False
    assert legacy.requires == ["app:db"]
    assert plain.requires == [] and plain.lifecycle == {}


# --------------------------------------------------------------------------------------------
# Errors


def test_malformed_yaml_names_file_and_others_still_load(tmp_path: Path) -> None:
    bad = write(tmp_path, "a/_index.yaml", "namespace: app\nentries: [{name: x, kind: k\n")
    write(tmp_path, "b/_index.yaml", "namespace: app.b\nentries: [{name: y, kind: k}]\n")
    app = load(tmp_path)
    assert [e.id for e in app.registry] == ["app.b:y"]
    assert len(app.errors) == 1
    err = app.errors[0]
    assert isinstance(err, LoadError)
    assert err.file == bad and err.entry is None
    assert str(bad) in str(err)
    assert "malformed YAML" in str(err)


def test_entry_errors_name_the_entry_and_loading_continues(tmp_path: Path) -> None:
    index = write(
        tmp_path,
        "_index.yaml",
        """
        namespace: app
        entries:
          - name: good
            kind: k
          - name: kindless
          - kind: k
          - just a string
          - name: bad_meta
            kind: k
            meta: [1, 2]
          - name: also_good
            kind: k
        """,
    )
    app = load(tmp_path)
    assert [e.id for e in app.registry] == ["app:also_good", "app:good"]
    messages = [str(err) for err in app.errors]
    assert len(messages) == 4
    assert all(str(index) in message for message in messages)
    assert "'kindless'" in messages[0] and "kind" in messages[0]
    assert app.errors[0].entry == "kindless"
    assert app.errors[1].entry is None and "#3" in messages[1] and "name" in messages[1]
    assert "#4" in messages[2] and "not a mapping" in messages[2]
    assert app.errors[3].entry == "bad_meta"


def test_duplicate_ids_keep_the_first(tmp_path: Path) -> None:
    first = write(tmp_path, "a/_index.yaml", "namespace: app\nentries: [{name: x, kind: one}]\n")
    second = write(tmp_path, "b/x.yaml", "namespace: app\nname: x\nkind: two\n")
    app = load(tmp_path)
    assert app.registry.get("app:x").kind == "one"
    assert len(app.errors) == 1
    err = app.errors[0]
    assert err.file == second and err.entry == "x"
    assert "duplicate" in str(err) and str(first) in str(err)


def test_bad_namespace_and_entries(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "namespace: 12\nentries: [{name: x, kind: k}]\n")
    write(tmp_path, "b.yaml", "namespace: app\nentries: {name: x, kind: k}\n")
    write(tmp_path, "c.yaml", "namespace: app\nentries:\n")
    app = load(tmp_path)
    assert len(app.registry) == 0
    assert [err.file.name for err in app.errors] == ["a.yaml", "b.yaml"]


def test_unknown_kinds_warned_once_with_counts(tmp_path: Path) -> None:
    write(
        tmp_path,
        "_index.yaml",
        """
        namespace: app
        entries:
          - {name: a, kind: function.lua}
          - {name: b, kind: http.endpoint}
          - {name: c, kind: http.endpoint}
          - {name: d, kind: queue.consumer}
        """,
    )
    app = load(tmp_path, known_kinds={"function.lua"})
    assert len(app.registry) == 4
    assert len(app.registry.find({"kind": "http.endpoint"})) == 2
    assert len(app.warnings) == 1
    assert "http.endpoint (2)" in app.warnings[0]
    assert "queue.consumer (1)" in app.warnings[0]
    assert "function.lua" not in app.warnings[0]
    assert load(tmp_path).warnings == []
    assert (
        load(tmp_path, known_kinds={"function.lua", "http.endpoint", "queue.consumer"}).warnings
        == []
    )


# --------------------------------------------------------------------------------------------
# ${env:NAME}


def test_env_references_resolved(tmp_path: Path) -> None:
    write(
        tmp_path,
        "_index.yaml",
        """
        namespace: app
        entries:
          - name: db
            kind: db.sql.postgres
            meta: {title: "db on ${env:HOST}"}
            dsn: "postgres://${env:USER}@${env:HOST}/x"
            pool: {options: ["${env:HOST}", 5]}
          - name: missing
            kind: k
            token: "${env:NOT_SET}"
          - name: after
            kind: k
        """,
    )
    app = load(tmp_path, env={"HOST": "h1", "USER": "me"})
    entry = app.registry.get("app:db")
    assert entry.data["dsn"] == "postgres://me@h1/x"
    assert entry.data["pool"] == {"options": ["h1", 5]}
    assert entry.meta["title"] == "db on h1"
    assert "app:missing" not in app.registry
    assert "app:after" in app.registry
    assert len(app.errors) == 1
    assert app.errors[0].entry == "missing" and "NOT_SET" in str(app.errors[0])


def test_resolve_env_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTORS_TEST_VAR", "v")
    assert resolve_env("x${env:ACTORS_TEST_VAR}y") == "xvy"
    assert resolve_env({"a": ["${env:A}", 1, None]}, {"A": "z"}) == {"a": ["z", 1, None]}
    assert resolve_env("${name} stays") == "${name} stays"
    with pytest.raises(ActorError) as info:
        resolve_env("${env:ACTORS_TEST_UNSET_VAR}", {})
    assert info.value.kind == INVALID and "ACTORS_TEST_UNSET_VAR" in str(info.value)


# --------------------------------------------------------------------------------------------
# Overrides


def make_registry() -> Registry:
    return Registry(
        [
            Entry.create(
                "app.api", "gw", "http.service", meta={"a": {"b": 1}}, data={"addr": ":80"}
            ),
            Entry.create(
                "app", "svc", "process.service", data={"lifecycle": {"auto_start": False}}
            ),
        ]
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("42", 42),
        ("-7", -7),
        ("2.5", 2.5),
        ("1e3", 1000.0),
        ("True", "True"),
        ("nan", "nan"),
        ("", ""),
        (":8080", ":8080"),
        ("a=b", "a=b"),
    ],
)
def test_override_values_typed_by_shape(text: str, value: object) -> None:
    entry_id, path, parsed = parse_override(f"app.api:gw:addr={text}")
    assert (entry_id, path) == ("app.api:gw", "addr")
    assert parsed == value and type(parsed) is type(value)


def test_overrides_apply_to_paths() -> None:
    registry = make_registry()
    original = registry.get("app.api:gw")
    apply_overrides(
        registry,
        [
            "app.api:gw:addr=:8080",
            "app.api:gw:data.timeout=30",
            "app.api:gw:meta.a.c=true",
            "app.api:gw:meta.new.deep=x",
            "app.api:gw:kind=http.server",
            "app:svc:lifecycle.auto_start=true",
        ],
    )
    gw = registry.get("app.api:gw")
    assert gw.kind == "http.server"
    assert gw.data == {"addr": ":8080", "timeout": 30}
    assert gw.meta == {"a": {"b": 1, "c": True}, "new": {"deep": "x"}}
    assert registry.get("app:svc").auto_start is True
    assert original.data == {"addr": ":80"} and original.meta == {"a": {"b": 1}}


def test_typed_overrides_keep_yaml_types() -> None:
    registry = make_registry()
    apply_typed_overrides(registry, [("app.api:gw", "meta.ports", [1, 2])])
    assert registry.get("app.api:gw").meta["ports"] == [1, 2]


@pytest.mark.parametrize(
    "text",
    [
        "no equals sign",
        "app.api:gw=1",
        "app.api:gw:a:b=1",
        "::addr=1",
        "app:nobody:addr=1",
        "app.api:gw:meta=1",
        "app.api:gw:meta.a.b.c=1",
        "app.api:gw:data..x=1",
        "app.api:gw:name=other",
        "app.api:gw:kind=",
    ],
)
def test_bad_overrides_raise_invalid_and_change_nothing(text: str) -> None:
    registry = make_registry()
    before = list(registry)
    with pytest.raises(ActorError) as info:
        apply_overrides(registry, ["app.api:gw:addr=changed", text])
    assert info.value.kind == INVALID
    assert list(registry) == before


# --------------------------------------------------------------------------------------------
# Kind plugins


LUA_PLUGIN = kinds.KindPlugin(
    {"function.lua", "process.lua"},
    check=lambda entry: [] if "method" in entry.data else ["missing 'method'"],
)


def make_plugin() -> kinds.KindPlugin:
    return kinds.KindPlugin(frozenset({"temporal.client"}), name="factory")


NOT_A_PLUGIN = 42


def test_discover_kind_plugins(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    points = [
        EntryPoint("lua", f"{__name__}:LUA_PLUGIN", kinds.ENTRY_POINT_GROUP),
        EntryPoint("broken", "no_such_module_for_actors_tests:x", kinds.ENTRY_POINT_GROUP),
        EntryPoint("temporal", f"{__name__}:make_plugin", kinds.ENTRY_POINT_GROUP),
        EntryPoint("wrong", f"{__name__}:NOT_A_PLUGIN", kinds.ENTRY_POINT_GROUP),
    ]
    seen_groups: list[str] = []

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        seen_groups.append(group)
        return points

    monkeypatch.setattr(kinds, "entry_points", fake_entry_points)
    with caplog.at_level(logging.WARNING, logger="actors.kinds"):
        plugins = kinds.discover_kind_plugins()
    assert seen_groups == ["actors.kinds"]
    assert [p.name for p in plugins] == ["lua", "factory"]
    assert kinds.known_kinds(plugins) == {"function.lua", "process.lua", "temporal.client"}
    warned = caplog.text
    assert "broken" in warned and "wrong" in warned


def test_plugin_validation(tmp_path: Path) -> None:
    write(
        tmp_path,
        "_index.yaml",
        """
        namespace: app
        entries:
          - {name: ok, kind: function.lua, method: main}
          - {name: bad, kind: process.lua}
          - {name: other, kind: http.endpoint}
        """,
    )
    registry = load(tmp_path).registry

    def crash(entry: Entry) -> list[str]:
        raise RuntimeError("boom")

    crashing = kinds.KindPlugin({"http.endpoint"}, name="http", check=crash)
    errors = kinds.validate_entries(registry, [LUA_PLUGIN, crashing])
    assert [(err.entry, err.message) for err in errors] == [
        ("bad", "missing 'method'"),
        ("other", "validation by plugin http failed: boom"),
    ]
    assert kinds.KindPlugin({"x"}).validate(registry.get("app:ok")) == []
