local http = require("http")
local time = require("time")

-- Server-sent events: each write_event goes out at once.
local function handler()
    local res = http.response()
    for i = 1, 3 do
        local err = res:write_event({name = "tick", data = {n = i}})
        if err then return end -- the client went away
        time.sleep("100ms")
    end
    res:write_event({name = "done", data = {ticks = 3}})
end

return {handler = handler}
