-- Registered under the custom workflow type TcNamed.
local function main() return "named" end
return {main = main}
