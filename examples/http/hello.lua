local http = require("http")

-- The fluent form: each call returns the response, and the handler returns it.
local function handler()
    return http.response():status(http.STATUS.OK):json({message = "hello"})
end

return {handler = handler}
