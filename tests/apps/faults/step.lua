-- An activity that works for `ms` milliseconds, so a kill can land in the middle of it.
local time = require("time")

local function main(n, i, ms)
    time.sleep(ms * time.MILLISECOND)
    return n * 10 + i
end

return {main = main}
