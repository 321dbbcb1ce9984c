-- Activities of the gap tests.
local time = require("time")

-- Works for `ms` milliseconds without yielding a result: only the runtime's automatic
-- heartbeat keeps it alive past a short heartbeat timeout.
local function slow(ms)
    time.sleep(ms * time.MILLISECOND)
    return ms
end

-- The actor this call runs as, or "nobody".
local function whoami()
    local actor = require("security").actor()
    return actor and actor:id() or "nobody"
end

return {slow = slow, whoami = whoami}
