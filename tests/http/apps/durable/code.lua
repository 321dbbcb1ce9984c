local function hello()
  return require("http").response():json({hello = "from the server"})
end

-- Workflow code: both modules are refused at `require`, with an error saying where they belong.
local function refuses()
  local out = {}
  for _, name in ipairs({"http", "http_client"}) do
    local ok, err = pcall(require, name)
    out[name] = {ok = ok, kind = errors.is(err, errors.INVALID) and "Invalid" or tostring(err),
                 message = tostring(err)}
  end
  return out
end

-- The workflow calls the network through an activity.
local function fetches(url)
  local funcs = require("funcs")
  local result, err = funcs.call("wf:fetch_activity", url)
  if err then return {error = tostring(err)} end
  return result
end

local function fetch_activity(url)
  local resp, err = require("http_client").get(url)
  if err then return nil, err end
  return {status = resp.status_code, body = resp.body}
end

return {hello = hello, refuses = refuses, fetches = fetches, fetch_activity = fetch_activity}
