-- Three activities with durable sleeps between them; the result depends on every step.
local time = require("time")
local funcs = require("funcs")

local function main(n, pause, work_ms)
    local total = 0
    for i = 1, 3 do
        local value, err = funcs.call("faults:step", n, i, work_ms or 200)
        if err then
            return nil, err
        end
        total = total + value
        time.sleep(pause or "1s")
    end
    return {n = n, total = total}
end

return {main = main}
