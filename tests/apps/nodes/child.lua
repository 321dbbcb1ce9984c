-- Says hello to `parent` (on another node), then exits with `n` doubled.
local function main(parent, n)
  process.send(parent, "hello", {n = n})
  return n * 2
end
return {main = main}
