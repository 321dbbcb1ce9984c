-- Seed: "Таймеры", first block, as written. Its first timer lasts a day, so a test can only
-- see it pending (README.md).
-- Completed: the surrounding `main` and its return.
local function main()
    local time = require("time")

    time.sleep("24h")
    time.sleep("5m")
    time.sleep("30s")
    time.sleep(100 * time.MILLISECOND)
    return "slept"
end

return { main = main }
