-- A workflow that lives for ever: it adds up "add" messages and answers "total" with the
-- sum so far. Temporal keeps every message in the workflow's history and terminates a
-- workflow whose history passes about 51 200 events or 50 MB, so whenever the history has
-- grown past `max_events` the tally continues as new (`process.upgrade`): same workflow ID,
-- same PID, an empty history, and the state it passes on.
local workflow = require("workflow")

local function main(state)
    state = state or {}
    state.total = state.total or 0
    state.runs = (state.runs or 0) + 1
    state.max_events = state.max_events or 10000
    local inbox = process.inbox()

    local function handle(msg)
        local topic = msg:topic()
        if topic == "add" then
            state.total = state.total + msg:payload():data()
        elseif topic == "total" then
            process.send(msg:from(), "total", {total = state.total, runs = state.runs})
        elseif topic == "stop" then
            return true
        end
        return false
    end

    while true do
        if handle(inbox:receive()) then
            return {total = state.total, runs = state.runs}
        end
        if workflow.history_length() > state.max_events then
            -- Take what has already arrived before leaving this run: messages still in
            -- the mailbox would not follow the workflow into the next one.
            while true do
                local result = channel.select({inbox:case_receive(), default = true})
                if result.default then
                    break
                end
                if handle(result.value) then
                    return {total = state.total, runs = state.runs}
                end
            end
            process.upgrade(nil, state)
        end
    end
end

return {main = main}
