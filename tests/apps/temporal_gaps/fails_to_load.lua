-- Compiles, but fails while its module body runs.
error("no configuration for this workflow")

return {main = function() return true end}
