-- The `http` module (http.py runs it): Request and Response are small Lua tables whose
-- methods ask Python about the request of the running handler. Writes go through rt.await:
-- they answer at once while the response is buffered and wait for the client once it streams.
local rt, py = ...
local await, error, setmetatable, pairs = rt.await, error, setmetatable, pairs

rt.module("stream") -- the methods of request:stream()'s object

local http = {}
for name, values in pairs(py.constants) do
  local t = {}
  for k, v in pairs(values) do t[k] = v end
  http[name] = t
end

-- Request --------------------------------------------------------------------------------

local R = {}
local REQUEST_MT = {__index = R, __name = "http.request"}
for _, name in ipairs({"method", "path", "query", "query_params", "header", "headers",
                       "content_type", "content_length", "host", "remote_addr", "has_body",
                       "accepts", "is_content_type", "param", "params", "stream"}) do
  local getter = py[name]
  R[name] = function(_, ...) return getter(...) end
end
-- The whole body: at once when it is in memory, else once the rest has arrived.
for _, name in ipairs({"body", "body_json", "form", "parse_multipart"}) do
  local reader = py[name]
  R[name] = function(_, ...) return await(reader(...)) end
end

-- MultipartFile: a file of req:parse_multipart()'s `files`.
local file_header, file_stream = py.file_header, py.file_stream
rt.METHODS["http.multipart_file"] = {
  name = function(f) return py.file_name(f) end,
  size = function(f) return py.file_size(f) end,
  header = function(f, name) return file_header(f, name) end,
  stream = function(f) return file_stream(f) end,
}

function http.request(options)
  local ok, err = py.request(options)
  if not ok then return nil, err end
  return setmetatable({}, REQUEST_MT), nil
end

-- Response -------------------------------------------------------------------------------

local S = {}
local RESPONSE_MT = {__index = S, __name = "http.response"}
local set_status, set_header, set_transfer = py.set_status, py.set_header, py.set_transfer
local write, write_json, write_text = py.write, py.write_json, py.write_text
local write_event, flush = py.write_event, py.flush

function S:set_status(code) return set_status(code) end
function S:set_header(name, value) return set_header(name, value) end
function S:set_content_type(value) return set_header("Content-Type", value) end
function S:set_transfer(mode) return set_transfer(mode) end
function S:write(data) return await(write(data)) end
function S:write_json(value) return await(write_json(value)) end
function S:write_event(event) return await(write_event(event)) end
function S:flush() return await(flush()) end

-- The fluent form: each returns the response, so a handler can `return` the chain.
local function chained(self, err)
  if err ~= nil then error(err, 3) end
  return self
end
function S:status(code) return chained(self, set_status(code)) end
function S:header(name, value) return chained(self, set_header(name, value)) end
function S:content_type(value) return chained(self, set_header("Content-Type", value)) end
function S:json(value) return chained(self, await(write_json(value))) end
function S:text(value) return chained(self, await(write_text(value))) end
function S:send(data) return chained(self, await(write(data))) end

function http.response()
  local ok, err = py.response()
  if not ok then return nil, err end
  return setmetatable({}, RESPONSE_MT), nil
end

return http
