-- Seed: "Детерминизм" → "Недетерминированные операции (избегать)", as written: an
-- anti-example. In a workflow `os.time()` and `math.random()` are made deterministic, but
-- there is no `io` library, so it fails at `io.open` (README.md).
-- Completed: the surrounding `main`.
local function main()
    -- Don't use wall clock time
    local now = os.time()              -- non-deterministic

    -- Don't use random directly
    local r = math.random()            -- non-deterministic

    -- Don't do I/O in workflow code
    local file = io.open("data.txt")   -- non-deterministic

    -- Don't use global mutable state
    counter = counter + 1               -- non-deterministic across replays
    return counter
end

return { main = main }
