local http = require("http")
local http_client = require("http_client")
local json = require("json")

-- Calls /api/hello on this same server, then answers with what it got.
local function handler()
    local req = http.request()
    local base = "http://" .. req:host()
    local resp, err = http_client.get(base .. "/api/hello", {timeout = "2s"})
    if err then
        return http.response():status(http.STATUS.BAD_GATEWAY):json({
            error = err:message(), kind = err:kind()})
    end
    return http.response():json({upstream_status = resp.status_code,
                                 upstream = json.decode(resp.body)})
end

return {handler = handler}
