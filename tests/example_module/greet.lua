-- The Lua half of the example module: `py` is the table the factory returned.
local rt, py = ...
local await = rt.await

local greet = {}
greet.hello = py.hello   -- answers at once: no wrapper needed
greet.known = py.known
function greet.later(seconds, word) return await(py.later(seconds, word)) end
return greet
