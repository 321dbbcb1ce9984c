"""The `security` module (lua-api §15): actors, scopes, and how they travel.

A process's security identity lives in its context dict (`LocalProcess.context`) under two
reserved keys, `ACTOR_KEY` and `SCOPE_KEY`. Everything that derives a child's context from
the parent's (`process.spawn*` / `exec`, `funcs.call` / `async`) therefore carries the
identity along, and grandchildren inherit it without any extra code. `ctx.get` / `ctx.all`
hide the two keys, a `with_context` value cannot overwrite them, and `security.actor()` /
`security.scope()` only ever return real `Actor` / `Scope` objects. Other hosts that turn a
context into data (Temporal headers) drop them by type: they are not plain values.

Actor and Scope are immutable Python objects (userdata in Lua, methods in security.lua).
They do not cross a process boundary as values (`process.send` refuses them); they travel
only as the identity of a spawn or call.

Policy: permissive. There is no policy engine yet, so every permission check passes
(lua-api §4.11) and `security.can(...)` answers true.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from actors.errors import ActorError, InvalidError
from lua_bindings.contract import ModuleHost, nil_on_error
from lua_bindings.convert import from_lua, lua_kind, text
from lua_bindings.modules import LuaModule

ACTOR_KEY = "@security.actor"
SCOPE_KEY = "@security.scope"
RESERVED = frozenset({ACTOR_KEY, SCOPE_KEY})
"""Context keys holding the identity; never visible to `ctx`, never set by `with_context`."""


@attrs.frozen(eq=True, hash=False)
class Actor:
    id: str
    meta: dict[str, Any] = attrs.field(factory=dict)

    def __str__(self) -> str:
        return f"actor({self.id})"


@attrs.frozen(eq=True, hash=False)
class Scope:
    policies: tuple[Any, ...] = ()

    def __str__(self) -> str:
        return f"scope({len(self.policies)} policies)"


lua_kind(Actor, "security.actor")
lua_kind(Scope, "security.scope")


def derive_context(
    base: Mapping[str, Any],
    extra: Any = None,
    actor: Any = None,
    scope: Any = None,
) -> dict[str, Any]:
    """A child's context: the parent's, plus `extra` values (a `with_context` table already
    converted by `from_lua`), plus an explicit actor / scope. Reserved keys in `extra` are
    ignored; a non-Actor `actor` (or non-Scope `scope`) raises Invalid."""
    context: dict[Any, Any] = dict(base)
    if extra:
        items = extra.items() if isinstance(extra, dict) else enumerate(extra, start=1)
        for key, value in items:
            if key not in RESERVED:
                context[key] = value
    if actor is not None:
        if not isinstance(actor, Actor):
            raise InvalidError("actor must be a security Actor")
        context[ACTOR_KEY] = actor
    if scope is not None:
        if not isinstance(scope, Scope):
            raise InvalidError("scope must be a security Scope")
        context[SCOPE_KEY] = scope
    return context


def visible_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """The values `ctx.all()` shows: everything but the identity."""
    return {k: v for k, v in context.items() if k not in RESERVED}


def context_actor(context: Mapping[str, Any]) -> Actor | None:
    actor = context.get(ACTOR_KEY)
    return actor if isinstance(actor, Actor) else None


def context_scope(context: Mapping[str, Any]) -> Scope | None:
    scope = context.get(SCOPE_KEY)
    return scope if isinstance(scope, Scope) else None


def _functions(host: ModuleHost) -> dict[str, Any]:
    @nil_on_error
    def new_actor(actor_id: Any = None, meta: Any = None) -> Actor:
        if not isinstance(actor_id, bytes | str):
            raise InvalidError("new_actor: id must be a string")
        values = from_lua(meta) if meta is not None else {}
        if values == []:
            values = {}
        if not isinstance(values, dict):
            raise InvalidError("new_actor: meta must be a table")
        return Actor(text(actor_id), values)

    @nil_on_error
    def new_scope(policies: Any = None) -> Scope:
        values = from_lua(policies) if policies is not None else []
        if not isinstance(values, list):
            raise InvalidError("new_scope: policies must be an array")
        return Scope(tuple(values))

    def actor() -> Actor | None:
        return context_actor(host.current.context)

    def scope() -> Scope | None:
        return context_scope(host.current.context)

    def actor_id(a: Actor) -> bytes:
        return a.id.encode("utf-8", "surrogateescape")

    def actor_meta(a: Actor) -> Any:
        return host.lua(a.meta)

    def scope_policies(s: Scope) -> Any:
        return host.lua(list(s.policies))

    def scope_contains(s: Scope, policy: Any) -> bool:
        try:
            return from_lua(policy) in s.policies
        except ActorError:
            return False

    @nil_on_error
    def scope_with(s: Scope, policy: Any) -> Scope:
        value = from_lua(policy)
        if value in s.policies:
            return s
        return Scope((*s.policies, value))

    @nil_on_error
    def scope_without(s: Scope, policy: Any) -> Scope:
        value = from_lua(policy)
        return Scope(tuple(p for p in s.policies if p != value))

    return {
        "new_actor": new_actor,
        "new_scope": new_scope,
        "actor": actor,
        "scope": scope,
        "actor_id": actor_id,
        "actor_meta": actor_meta,
        "scope_policies": scope_policies,
        "scope_contains": scope_contains,
        "scope_with": scope_with,
        "scope_without": scope_without,
    }


MODULE = LuaModule("security", _functions)
