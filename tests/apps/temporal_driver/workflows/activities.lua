-- Calling activities: results, errors, options, futures (seed: "Обработка ошибок").
local funcs = require("funcs")
local time = require("time")
local M = {}

function M.errors()
    local out = {}
    local _, err = funcs.call("app:failing_activity", {kind = "NotFound", retryable = false})
    out.returned = {kind = err:kind(), retryable = err:retryable(), message = err:message(),
                    wrapper = err:details()._wrapper}
    local _, raised = funcs.new():with_options({["activity.retry_policy"] = {maximum_attempts = 1}})
        :call("app:failing_activity", {raise = true})
    out.raised = {kind = raised:kind(), retryable = raised:retryable()}
    local _, missing = funcs.new():with_options({["activity.retry_policy"] = {maximum_attempts = 1}})
        :call("app:no_such_activity", 1)
    out.missing = {kind = missing:kind(), retryable = missing:retryable()}
    local _, retried = funcs.new():with_options({
        ["activity.retry_policy"] = {maximum_attempts = 2, initial_interval = 10},
    }):call("app:failing_activity", {kind = "Unavailable", retryable = true})
    out.retried = {kind = retried:kind(), retryable = retried:retryable()}
    local _, bad = funcs.new():with_options({["activity.start_to_close_timeout"] = true})
        :call("app:echo_activity", 1)
    out.bad_options = {kind = bad:kind(), message = bad:message()}
    local _, bad_target = funcs.call("nonsense", 1)
    out.bad_target = bad_target:kind()
    return out
end

function M.chain(input)
    local a = funcs.call("app:echo_activity", input)
    local b = funcs.new():with_context({trace = "t-1"}):call("app:echo_activity", a)
    local l = funcs.call("app:local_echo", {via = "local"})
    return {a = a, b = b, l = l}
end

function M.futures()
    local out = {}
    local f1 = funcs.async("app:echo_activity", {n = 1})
    local f2 = funcs.async("app:echo_activity", {n = 2})
    out.pending = f1:is_complete()
    local r = channel.select{f1:channel():case_receive(), f2:channel():case_receive()}
    out.first = r.value:data().args[1].n
    local second = (r.channel == f1:channel()) and f2 or f1
    second:channel():receive()
    out.results = {f1:result():data().args[1].n, f2:result():data().args[1].n}
    out.same = f1:result() == f1:result()

    local slow = funcs.new():with_options({["activity.heartbeat_timeout"] = "1s"})
        :async("app:slow_activity", 5)
    local timeout = time.after("1s")
    local sel = channel.select{slow:channel():case_receive(), timeout:case_receive()}
    out.timed_out = sel.channel == timeout
    out.cancel = slow:cancel()
    local _, cerr = slow:result()
    out.canceled = {is = slow:is_canceled(), kind = cerr and cerr:kind()}
    local item = slow:channel():receive()
    out.channel_item = tostring(item)
    return out
end

-- One step that answers a command at once (self-send) and issues others (an activity, a
-- durable timer): none of them is lost (§20, step re-entrancy).
function M.same_step()
    local out = channel.new(3)
    coroutine.spawn(function()
        out:send({"activity", funcs.call("app:echo_activity", "x").args[1]})
    end)
    coroutine.spawn(function()
        process.send(process.pid(), "me", "hi")
        out:send({"self", true})
    end)
    coroutine.spawn(function()
        time.sleep("1s")
        out:send({"timer", true})
    end)
    local got = {inbox = process.listen("me"):receive()}
    for _ = 1, 3 do
        local item = out:receive()
        got[item[1]] = item[2]
    end
    return got
end

-- funcs.call hands its call to Python once the kernel stops (temporal_host/wf_env.lua):
-- tasks ready together still run in the order they would if each call were made on the
-- spot, an answer given at once (a refused target) resumes its caller before any other task,
-- and the activities are scheduled in the order the tasks call them.
function M.call_order()
    local log = {}
    local done = channel.new(3)
    for i = 1, 3 do
        coroutine.spawn(function()
            log[#log + 1] = "start " .. i
            local _, err = funcs.call("nonsense", i)
            log[#log + 1] = "refused " .. i .. " " .. err:kind()
            local echoed = funcs.call("app:echo_activity", i)
            log[#log + 1] = "echo " .. echoed.args[1]
            done:send(i)
        end)
    end
    for _ = 1, 3 do done:receive() end
    return log
end

-- Context from the start header (§16): visible to the workflow and to its activities;
-- a signal's sender comes from its own header.
function M.context()
    local ctx = require("ctx")
    local seen = funcs.call("app:echo_activity")
    local msg = process.listen("who", {message = true}):receive()
    return {all = ctx.all(), user = ctx.get("user_id"), activity_user = seen.user,
            sender = msg:from()}
end

return M
