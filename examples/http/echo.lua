local http = require("http")

-- The reference form: set_status / write_json return an error (or nil) instead of the response.
local function handler()
    local req, err = http.request()
    if err then error(err) end
    local res = http.response()

    local data, perr = req:body_json()
    if perr then
        res:set_status(http.STATUS.BAD_REQUEST)
        res:write_json({error = perr:message()})
        return
    end
    res:set_status(http.STATUS.CREATED)
    res:set_header("X-Echo", "yes")
    res:write_json({received = data, from = req:header("User-Agent")})
end

return {handler = handler}
