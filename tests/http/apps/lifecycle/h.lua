local http = require("http")

local function hello() return http.response():json({ok = true}) end

local function slow()
  require("time").sleep("1500ms")
  return http.response():json({slow = true})
end

return {hello = hello, slow = slow}
