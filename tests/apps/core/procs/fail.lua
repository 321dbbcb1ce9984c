-- Fails at once with a structured error, or after a message when `wait` is true.
local function main(wait)
  if wait then process.inbox():receive() end
  return nil, errors.new({kind = errors.INVALID, message = "deliberate failure", retryable = false,
                          details = {code = 7}})
end
return {main = main}
