-- Starts the job named "the-job" (or joins it when it already runs), waits for its EXIT
-- and prints the result: run it, kill it mid-activity, run it again.
local json = require("json")

local function main()
    local pid, err = process.with_options({}):with_name("the-job")
        :spawn_monitored("faults:job", "faults:worker", 5, "1s", 3000)
    if err then
        return nil, err
    end
    print("started " .. pid)
    local event = process.events():receive()
    print("result " .. json.encode(event.result.value))
    return event.result.value
end

return {main = main}
