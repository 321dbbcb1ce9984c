local env = require("env")

local function main()
    -- a declared variable: its default when no storage has it
    assert(env.get("PORT") == "8080")
    local _, denied = env.set("PORT", "9090")
    assert(denied:kind() == errors.PERMISSION_DENIED)   -- declared read_only

    -- other keys go to the default storage (the router: app_env first, then the OS)
    assert(env.get("GREETING") == "hello")
    assert(env.set("FEATURE_X", "on"))                  -- the first writable storage
    assert(env.get_all().FEATURE_X == "on")

    local _, missing = env.get("SURELY_NOT_SET_ANYWHERE")
    assert(missing:kind() == errors.NOT_FOUND)
    return true
end

return {main = main}
