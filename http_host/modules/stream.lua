-- The `stream` type (stream.py): methods of the runtime object, installed once per state.
local rt, py = ...
local await = rt.await
local read, close = py.read, py.close

local S = {}
function S.read(s, size) return await(read(s, size)) end
function S.close(s) return await(close(s)) end
rt.METHODS.stream = S

return {}
