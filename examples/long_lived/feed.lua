-- Starts the tally (or joins it: the name makes the workflow ID), sends `count` numbers,
-- asks for the total and prints it.
local function main(count, max_events)
    count = count or 3000
    local tally, err = process
        .with_options({["workflow.id"] = "long-lived-tally"})
        :spawn("long_lived:tally", "long_lived:worker", {max_events = max_events or 2000})
    if err then
        return nil, err
    end
    for i = 1, count do
        local ok, send_err = process.send(tally, "add", i)
        if not ok then
            return nil, send_err
        end
    end
    process.send(tally, "total")
    local reply = process.inbox():receive():payload():data()
    print(string.format("total %d after %d runs", reply.total, reply.runs))
    return reply
end

return {main = main}
