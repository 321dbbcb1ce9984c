-- Sends that can never succeed, each tried against a target (issue 12 item 8).

local function nested(depth)
    local root = {}
    local current = root
    for _ = 1, depth do
        current.x = {}
        current = current.x
    end
    return root
end

local CASES = {
    sparse = function(target) return process.send(target, "m", {[1] = "a", [3] = "c"}) end,
    mixed = function(target) return process.send(target, "m", {1, 2, x = "y"}) end,
    deep = function(target) return process.send(target, "m", nested(200000)) end,
    numeric_topic = function(target) return process.send(target, 42, "v") end,
    huge = function(target) return process.send(target, "m", string.rep("x", 3 * 1024 * 1024)) end,
    long_topic = function(target) return process.send(target, string.rep("t", 300), "v") end,
}

-- name → {ok = ...} | {kind, retryable, message} | {plain = "..."} | {raised = "..."}
local function probe(target)
    local out = {}
    for name, case in pairs(CASES) do
        local ok, sent, err = pcall(case, target)
        if not ok then
            out[name] = {raised = tostring(sent)}
        elseif type(err) == "string" then
            out[name] = {plain = err}
        elseif err ~= nil then
            out[name] = {kind = err:kind(), retryable = err:retryable(), message = tostring(err)}
        else
            out[name] = {ok = sent}
        end
    end
    return out
end

-- In a workflow: the same probes toward a workflow and toward a local process.
local function workflow_probe(workflow_target, local_target)
    return {workflow = probe(workflow_target), ["local"] = probe(local_target)}
end

return {probe = probe, workflow_probe = workflow_probe}
