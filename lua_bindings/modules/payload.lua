-- The `payload` global (lua-api §10); the Payload type itself lives in core.lua.
local rt, py = ...
rt.py.payload_decode = py.payload_decode
rt.py.payload_transcode = py.payload_transcode
local payload = {format = {}}
for k, v in pairs(py.formats) do payload.format[k] = v end
function payload.new(v)
  return rt.payload(v, rt.is_kind(v, "error") and "golang/error" or "lua/any")
end
return payload
