-- Two tasks of one process bounce a number `n` times over two unbuffered channels (the
-- channels of `channel.new`, not messages); returns the count.
local function main(n)
  local there, back = channel.new(0), channel.new(0)
  coroutine.spawn(function()
    while true do
      local v, ok = there:receive()
      if not ok then return end
      back:send(v)
    end
  end)
  for i = 1, n do
    there:send(i)
    back:receive()
  end
  there:close()
  return n
end
return {main = main}
