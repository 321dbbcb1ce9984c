-- Activities of the gap tests.
local time = require("time")

-- Works for `ms` milliseconds without yielding a result: only the runtime's automatic
-- heartbeat keeps it alive past a short heartbeat timeout.
local function slow(ms)
    time.sleep(ms * time.MILLISECOND)
    return ms
end

return {slow = slow}
