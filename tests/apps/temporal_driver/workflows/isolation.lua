-- A run that tries to leave something behind for the next run of its entry, which takes
-- the same pooled Lua state (temporal_host/states.py). Every probe first reports what it
-- finds, then writes; the test runs it twice and the second run must find nothing.
local M = {}

local runs = 0  -- a module-level local of the entry's own source: per run too

local function evil() return "evil" end

function M.main(tag)
    local time = require("time")
    local funcs = require("funcs")
    local inserted = {}
    table.insert(inserted, "ok")
    runs = runs + 1
    local seen = {
        runs = runs,
        global = leaked_global,
        rawglobal = rawget(_G, "leaked_raw"),
        undefined = undefined_name,
        string_field = string.leaked,
        string_method = ("x").leaked,
        upper = ("a"):upper(),
        table_insert = inserted[1],
        floor = math.floor(2.5),
        pi = math.pi,
        os_time = type(os.time()),
        coroutine_field = coroutine.leaked,
        errors_field = errors.leaked,
        time_field = time.leaked,
        time_now = type(time.now),
        funcs_field = funcs.leaked,
        funcs_call = type(funcs.call),
        first_random = math.random(1, 1000000000),
    }

    leaked_global = tag
    _G.leaked_raw = tag
    string.leaked = tag
    table.insert = evil
    math.floor, math.pi = evil, 3
    os.time = evil
    coroutine.leaked, errors.leaked = tag, tag
    time.leaked, time.now = tag, evil
    funcs.leaked, funcs.call = tag, evil
    local shared_mt = pcall(function() getmetatable("").__index.upper = evil end)
    local raw_mt = pcall(rawset, getmetatable("").__index, "upper", evil)
    setmetatable(_G, {__index = function() return "ghost" end})
    -- What the shared generator gives after a reseed the next run must not inherit.
    math.randomseed(42)
    local after_reseed = math.random(1, 1000000000)
    math.randomseed(42)

    return {seen = seen, after_reseed = after_reseed, wrote_shared_mt = shared_mt or raw_mt}
end

return M
