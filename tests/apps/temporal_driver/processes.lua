-- A local process the workflows send to: registers a name, collects two notes, returns them.
local function main()
    process.registry.register("driver-collector")
    local inbox = process.inbox()
    local got = {}
    for _ = 1, 2 do
        local msg = inbox:receive()
        got[#got + 1] = {topic = msg:topic(), from = msg:from(), value = msg:payload():data()}
    end
    return got
end

return main
