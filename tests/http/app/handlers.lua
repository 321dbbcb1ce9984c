-- Handlers of the HTTP test app: each shows one part of the `http` module.
local http = require("http")

-- The fluent form of the workflow description: the chain returns the response.
local function hello()
  local req = http.request()
  local name = req:query("name") or "world"
  return http.response():status(http.STATUS.OK):header("X-Total", "1"):json({hello = name})
end

-- The reference form: set_status / set_header / write_json, each returning an error or nil.
local function echo()
  local req, err = http.request()
  if err then error(err) end
  local res = http.response()
  local body = req:body()
  assert(res:set_status(http.STATUS.CREATED) == nil)
  assert(res:set_header("X-Method", req:method()) == nil)
  assert(res:write_json({
    method = req:method(),
    path = req:path(),
    kind = req:param("kind"),
    params = req:params(),
    query = req:query_params(),
    header = req:header("X-Custom"),
    content_type = req:content_type(),
    length = req:content_length(),
    body = body,
    again = select(2, req:body()) ~= nil,  -- a body is read once
    remote = req:remote_addr() ~= "",
  }) == nil)
end

-- Malformed JSON reaches the handler as an error value, not as a failure.
local function json_in()
  local req = http.request()
  local res = http.response()
  local data, err = req:body_json()
  if err then
    res:set_status(http.STATUS.BAD_REQUEST)
    res:write_json({error = err:message(), kind = err:kind()})
    return
  end
  res:write_json({received = data})
end

local function form_in()
  local req = http.request()
  local form, err = req:form()
  if err then return http.response():status(400):json({error = err:message()}) end
  return http.response():json(form)
end

-- Multipart: values and files (each file read through its stream).
local function upload()
  local req = http.request()
  local form, err = req:parse_multipart()
  if err then return http.response():status(400):json({error = err:message()}) end
  local files = {}
  for field, list in pairs(form.files) do
    local file = list[1]
    local stream = file:stream()
    local parts = {}
    while true do
      local chunk = stream:read(3)
      if chunk == nil then break end
      parts[#parts + 1] = chunk
    end
    files[field] = {name = file:name(), size = file:size(), type = file:header("Content-Type"),
                    content = table.concat(parts), count = #list}
  end
  return http.response():json({values = form.values, files = files})
end

-- A long body read as it arrives, and read whole.
local function count()
  local stream = http.request():stream()
  local bytes, reads = 0, 0
  while true do
    local chunk, err = stream:read(65536)
    if err then return http.response():status(400):json({error = err:message()}) end
    if chunk == nil then break end
    bytes, reads = bytes + #chunk, reads + 1
  end
  return http.response():json({bytes = bytes, reads = reads})
end

local function count_body()
  local body, err = http.request():body()
  if err then return http.response():status(400):json({error = err:message()}) end
  return http.response():json({bytes = #body, last = body:sub(-1)})
end

local function boom()
  error("the handler broke")
end

local function stuck()
  local time = require("time")
  time.sleep("1h")
end

local function sse()
  local res = http.response()
  for i = 1, 3 do
    local err = res:write_event({name = "tick", data = {n = i}})
    if err then error(err) end
  end
  -- after events went out, the status cannot change any more
  local err = res:set_status(500)
  res:write_event({name = "late_status", data = {kind = err and err:kind() or "none"}})
end

-- Streams until the client leaves: then a write fails and the handler ends.
local function forever()
  local time = require("time")
  local res = http.response()
  local n = 0
  while true do
    n = n + 1
    if res:write_event({name = "tick", data = n}) ~= nil then return end
    time.sleep("20ms")
  end
end

local function chunks()
  local res = http.response()
  res:set_content_type("text/plain")
  res:set_transfer(http.TRANSFER.CHUNKED)
  for i = 1, 3 do res:write("part " .. i .. "\n"); res:flush() end
end

-- /wait blocks until /release sends it a message: a parked handler blocks nobody else.
local function wait()
  process.registry.register("http_waiter")
  local msg = process.inbox():receive()
  return http.response():json({released_by = msg:payload():data()})
end

local function release()
  local req = http.request()
  local ok, err = process.send("http_waiter", "go", req:query("who"))
  return http.response():json({sent = ok == true, error = err and tostring(err)})
end

return {count = count, count_body = count_body, hello = hello, echo = echo, json_in = json_in, form_in = form_in, boom = boom, upload = upload,
        stuck = stuck, sse = sse, forever = forever, chunks = chunks, wait = wait, release = release}
