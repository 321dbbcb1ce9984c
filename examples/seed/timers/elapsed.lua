-- Seed: "Таймеры", second block (elapsed time), as written.
-- Completed: the require of `time`, the surrounding `main` and its return.
local time = require("time")

local function main()
    local start = time.now()
    time.sleep("1s")
    local elapsed = time.now():sub(start):milliseconds()
    return elapsed
end

return { main = main }
