-- Probes of the deterministic environment and the workflow module.
local M = {}

function M.random()
    local uuid = require("uuid")
    local crypto = require("crypto")
    local bytes = crypto.random.bytes(16)
    local hex = bytes:gsub(".", function(c) return string.format("%02x", string.byte(c)) end)
    local sealed = crypto.encrypt.aes("secret", string.rep("k", 32))
    return {
        v4 = uuid.v4(), v7 = uuid.v7(), v1 = uuid.v1(),
        bytes = hex, len = #bytes,
        str = crypto.random.string(12),
        rid = crypto.random.uuid(),
        opened = crypto.decrypt.aes(sealed, string.rep("k", 32)),
        math = math.random(1, 1000000), math2 = math.random(),
        bad_len = select(2, crypto.random.bytes(0)) ~= nil,
    }
end

function M.pairs_order()
    local t = {}
    t.zeta, t.alpha, t.Beta, t["b"] = 1, 2, 3, 4
    t[3], t[1], t[-2], t[10] = "c", "a", "m", "j"
    t[2.5], t[-0.5] = "f", "g"
    t[true], t[false] = "T", "F"
    local order = {}
    for k in pairs(t) do order[#order + 1] = tostring(k) end
    local via_next, k = {}, next(t)
    while k ~= nil do via_next[#via_next + 1] = tostring(k); k = next(t, k) end
    local proxied = setmetatable({}, {__pairs = function(self)
        local done = false
        return function() if done then return nil end; done = true; return "only", 1 end, self, nil
    end})
    local meta = {}
    for key in pairs(proxied) do meta[#meta + 1] = key end
    -- clearing fields during traversal stays legal
    local c = {a = 1, b = 2, c = 3}
    local kept = 0
    for key in pairs(c) do c.b = nil; kept = kept + 1 end
    return {order = order, via_next = via_next, meta = meta, kept = kept, empty = next({}) == nil}
end

function M.info()
    local workflow = require("workflow")
    local time = require("time")
    local before = workflow.history_length()
    local t0 = time.now()
    local c0 = os.clock()
    time.sleep("1s")
    local info = workflow.info()
    local v = workflow.version("change-1", 1, 2)
    local again = workflow.version("change-1", 1, 2)
    local bad, bad_err = workflow.version("change-2", 3, 1)
    local ok, attr_err = workflow.attrs({memo = {notes = "priority", source = "web"}})
    local _, attrs_bad = workflow.attrs({})
    return {
        info = info, before = before, after = workflow.history_length(),
        size = workflow.history_size(),
        elapsed_ms = time.now():sub(t0):milliseconds(), clock = os.clock() - c0,
        os_time = os.time() == time.now():unix(),
        date = os.date("%Y", 0), table_time = os.time({year = 2000, month = 1, day = 1, hour = 0}),
        version = v, again = again, bad = bad, bad_kind = bad_err and bad_err:kind(),
        attrs = ok, attr_err = attr_err and tostring(attr_err), attrs_bad = attrs_bad and attrs_bad:kind(),
    }
end

function M.rejected()
    local out = {}
    for _, name in ipairs({"monitor", "unmonitor", "link", "unlink"}) do
        local ok, err = process[name](process.pid())
        out[name] = {ok = ok, kind = err:kind(), retryable = err:retryable(), message = err:message()}
    end
    local ok, err = pcall(require, "events")
    out.events = {ok = ok, message = tostring(err)}
    local ok2, err2 = pcall(require, "workflow")
    out.workflow_listed = ok2
    return out
end

function M.timers()
    local time = require("time")
    local out = {}
    -- a stopped timer never fires; a ticker fires N times, then stops
    local t = time.timer("5s")
    out.stopped = t:stop()
    out.stopped_again = t:stop()
    local ticker = time.ticker("1s")
    local ticks = 0
    while ticks < 2 do ticker:channel():receive(); ticks = ticks + 1 end
    out.ticker_stop = ticker:stop()
    out.ticks = ticks
    local _, bad = time.after(0)
    out.after_zero = bad and bad:kind()
    -- reset re-arms a timer
    local r = time.timer("10s")
    out.reset = r:reset("1s")
    local fired = r:channel():receive()
    out.fired_type = type(fired)
    time.sleep(0)
    return out
end

-- Temporal cancellation: a CANCEL event, then a normal return (or a Canceled error).
function M.cancellable(input)
    local events = process.events()
    local ev = events:receive()
    if input and input.fail then
        return nil, errors.new({kind = errors.CANCELED, message = "giving up", retryable = false})
    end
    return {status = "canceled", kind = ev.kind, reason = ev.reason, from = ev.from}
end

function M.fails(input)
    if input.raise then error("boom") end
    return nil, errors.new({kind = input.kind, message = input.message, retryable = input.retryable,
                            details = {n = 1}})
end

-- Continue-as-new through process.upgrade: `hops` runs of this entry, then the echo entry.
function M.hops(hops, trail)
    trail = trail or {}
    table.insert(trail, hops)
    if hops > 0 then
        process.upgrade(nil, hops - 1, trail)
    else
        process.upgrade("app:echo_workflow", "done", trail)
    end
    error("process.upgrade returned")
end

-- Logging: once when the code runs, never again when it replays.
function M.logs(tag)
    local logger = require("logger")
    logger.info("workflow log", {tag = tag})
    print("workflow print", tag)
    return tag
end

function M.echo(...)
    return {...}
end

return M
