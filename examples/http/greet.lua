local http = require("http")

-- GET /api/greet/{name}?punct=!: a path parameter and a query parameter.
local function handler()
    local req = http.request()
    local name = req:param("name")
    local punct = req:query("punct") or "."
    return http.response():json({greeting = "Hello, " .. name .. punct})
end

return {handler = handler}
