local http = require("http")

local function hello()
  return http.response():json({message = "hello"})
end

return {hello = hello}
