-- Blocks on its inbox forever: an idle process.
return {main = function() return process.inbox():receive() end}
