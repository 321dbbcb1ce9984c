-- http_client from a handler: the test passes the URLs of this same server (loopback, so the
-- entry allows private addresses) and gets back what the client saw.
local http = require("http")

local function describe(err)
  return {kind = err:kind(), message = err:message(), retryable = err:retryable()}
end

local function fetch()
  local http_client = require("http_client")
  local req = http.request()
  local mode, url = req:query("mode"), req:query("url")
  local out = {}
  if mode == "get" then
    local resp, err = http_client.get(url, {query = {name = "client"}, headers = {Origin = "http://localhost:3000"}})
    if err then return http.response():status(502):json(describe(err)) end
    out = {status = resp.status_code, body = resp.body, cors = resp.headers["access-control-allow-origin"],
           size = resp.body_size}
  elseif mode == "post" then
    local resp, err = http_client.post(url, {body = '{"a": [1, 2]}', headers = {["Content-Type"] = "application/json"}, timeout = "5s"})
    if err then return http.response():status(502):json(describe(err)) end
    local resp2, err2 = http_client.post(url, {json = {b = true}})
    if err2 then return http.response():status(502):json(describe(err2)) end
    out = {status = resp.status_code, body = resp.body, json_option = resp2.body}
  elseif mode == "stream" then
    local resp, err = http_client.get(url, {stream = true})
    if err then return http.response():status(502):json(describe(err)) end
    local parts = {}
    while true do
      local chunk, rerr = resp.stream:read(4)
      if rerr then return http.response():status(502):json(describe(rerr)) end
      if chunk == nil then break end
      parts[#parts + 1] = chunk
    end
    out = {status = resp.status_code, size = resp.body_size, pieces = #parts, body = table.concat(parts)}
  elseif mode == "sse" then
    local resp, err = http_client.get(url, {stream = true})
    if err then return http.response():status(502):json(describe(err)) end
    local events = http_client.events(resp)
    local seen = {}
    while true do
      local event, eerr = events:next()
      if eerr then return http.response():status(502):json(describe(eerr)) end
      if event == nil then break end
      seen[#seen + 1] = event
    end
    out = {events = seen}
  elseif mode == "timeout" then
    local _, err = http_client.get(url, {timeout = 0.2})
    out = describe(err)
  elseif mode == "refused" then
    local _, err = http_client.get(url)
    out = describe(err)
  elseif mode == "invalid" then
    local _, err = http_client.request("BREW", url)
    local _, err2 = http_client.get("ftp://example.com/")
    local _, err3 = http_client.get(url, {nonsense = true})
    out = {method = describe(err), scheme = describe(err2), option = describe(err3)}
  elseif mode == "batch" then
    local responses, errs = http_client.request_batch({{"GET", url}, {"GET", req:query("bad")}})
    out = {first = responses[1].status_code, second_missing = responses[2] == nil,
           second_error = errs and errs[2] and describe(errs[2])}
  elseif mode == "uri" then
    local decoded, derr = http_client.decode_uri("%zz")
    out = {encoded = http_client.encode_uri("a b&c=d/é"), decoded = http_client.decode_uri("a+b%26c"),
           bad = derr and describe(derr), nothing = decoded == nil}
  end
  return http.response():json(out)
end

-- The same call from an entry without the allowance.
local function fetch_denied()
  local http_client = require("http_client")
  local req = http.request()
  local _, err = http_client.get(req:query("url"))
  return http.response():json(describe(err))
end

return {fetch = fetch, fetch_denied = fetch_denied}
