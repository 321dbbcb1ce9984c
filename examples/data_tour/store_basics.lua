local store = require("store")
local time = require("time")

local function main()
    local cache, err = store.get("tour:cache")
    if err then return nil, err end

    assert(cache:set("user:1", {name = "Alice", roles = {"admin"}}))
    assert(cache:set("session:abc", "token", 0.1))   -- expires after 100 ms

    local user = cache:get("user:1")
    assert(user.roles[1] == "admin")
    user.name = "changed"                             -- your copy; the store keeps its own
    assert(cache:get("user:1").name == "Alice")

    time.sleep("150ms")
    assert(cache:has("session:abc") == false)
    local value, missing = cache:get("session:abc")
    assert(value == nil and missing == "key not found: session:abc")

    assert(cache:delete("user:1") == true)
    assert(cache:delete("user:1") == false)
    cache:release()
    return true
end

return {main = main}
