-- The `payload` global (lua-api §10).
local rt, py = ...
local P = {}
rt.METHODS.payload = P
function P.get_format(p) return py.get_format(p) end
function P.data(p) return py.data(p) end
function P.unmarshal(p) return py.data(p) end
function P.transcode(p, format) return py.transcode(p, format) end

local payload = {format = {}}
for k, v in pairs(py.formats) do payload.format[k] = v end
function payload.new(v) return py.new(v) end
return payload
