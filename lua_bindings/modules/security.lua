-- The `security` module (lua-api §15). Actor and Scope are Python objects (userdata);
-- their methods are registered here. Policy is permissive: every check passes.

local rt, py = ...
rt.METHODS["security.actor"] = {
  id = py.actor_id,
  meta = py.actor_meta,
}
rt.METHODS["security.scope"] = {
  policies = py.scope_policies,
  contains = py.scope_contains,
  with = py.scope_with,
  without = py.scope_without,
}

local security = {}
function security.new_actor(id, meta) return py.new_actor(id, meta) end
function security.new_scope(policies) return py.new_scope(policies) end
function security.actor() return py.actor() end
function security.scope() return py.scope() end
function security.can(action, resource, meta) return true end
return security
