local function run(input)
  print("answer printed")
  return {answer = 42, input = input}
end
return {run = run}
