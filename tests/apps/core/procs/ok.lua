-- Returns its argument doubled, or waits for a message first when `wait` is true.
local function main(n, wait)
  if wait then process.inbox():receive() end
  return (n or 0) * 2
end
return {main = main}
