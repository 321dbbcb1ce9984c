-- `actors run APP hello ARGS...`: prints its words on stdout, logs on stderr.
local io = require("io")
local json = require("json")
local logger = require("logger")

local function main()
  print("hello printed")
  logger:info("hello logged", {answer = 42})
  logger:debug("hello debug")
  io.print(json.encode(io.args()))
  return 0
end
return {main = main}
