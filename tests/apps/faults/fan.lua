-- `main(processes, messages, senders)`: `processes` receivers each get `messages` messages
-- from `senders` senders (split between them); each receiver checks that every sender's
-- messages arrive once and in order, and reports to main.
local function receiver(me, expected, senders)
    local inbox = process.inbox()
    local next_from = {}
    for s = 1, senders do
        next_from[s] = 1
    end
    local got, wrong = 0, 0
    while got < expected do
        local data = inbox:receive():payload():data()
        if data.seq == next_from[data.sender] then
            next_from[data.sender] = data.seq + 1
        else
            wrong = wrong + 1
        end
        got = got + 1
    end
    process.send(me, "done", {wrong = wrong, got = got})
end

local function sender(index, targets, count)
    for seq = 1, count do
        for _, target in ipairs(targets) do
            process.send(target, "m", {sender = index, seq = seq})
        end
    end
end

local function main(processes, messages, senders)
    local me = process.pid()
    local per_sender = messages // senders
    local targets = {}
    for i = 1, processes do
        targets[i] = process.spawn("faults:receiver", "faults:processes", me, per_sender * senders, senders)
    end
    for s = 1, senders do
        process.spawn("faults:sender", "faults:processes", s, targets, per_sender)
    end
    local inbox = process.inbox()
    local done, wrong, got = 0, 0, 0
    while done < processes do
        local data = inbox:receive():payload():data()
        done = done + 1
        wrong = wrong + data.wrong
        got = got + data.got
    end
    return {receivers = done, delivered = got, out_of_order = wrong}
end

local function nothing()
    return true
end

-- `count` spawn/exit cycles, `batch` processes alive at a time.
local function cycles(count, batch)
    local events = process.events()
    local done = 0
    while done < count do
        local n = math.min(batch, count - done)
        for _ = 1, n do
            process.spawn_monitored("faults:nothing", "faults:processes")
        end
        for _ = 1, n do
            events:receive()
        end
        done = done + n
    end
    return done
end

return {main = main, receiver = receiver, sender = sender, nothing = nothing, cycles = cycles}
