-- The `http_client` module (http_client.py runs it): every request yields until answered.
local rt, py = ...
local await = rt.await
local request, batch, next_event = py.request, py.request_batch, py.next_event

rt.module("stream") -- the methods of a streamed response's `stream`

local client = {}
function client.request(method, url, options) return await(request(method, url, options)) end
for _, method in ipairs({"get", "post", "put", "patch", "delete", "head"}) do
  local upper = method:upper()
  client[method] = function(url, options) return await(request(upper, url, options)) end
end
function client.request_batch(requests) return await(batch(requests)) end
client.encode_uri = py.encode_uri
client.decode_uri = py.decode_uri

-- Server-sent events of a streamed response: `local events = http_client.events(resp)`,
-- then `events:next()` gives {name, data, id} until nil.
local E = {}
function E.next(reader) return await(next_event(reader)) end
rt.METHODS["http_client.events"] = E
function client.events(response)
  local stream = type(response) == "table" and response.stream or response
  return py.events(stream)
end

return client
