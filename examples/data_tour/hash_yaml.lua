local hash = require("hash")
local yaml = require("yaml")

local function main()
    assert(hash.sha256("hello") == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    assert(#hash.sha256("hello", true) == 32)           -- raw bytes
    assert(#hash.hmac_sha256("message", "secret") == 64)
    assert(math.type(hash.fnv32("hello")) == "integer")

    local text = assert(yaml.encode({name = "svc", ports = {80, 443}}))
    assert(text == "name: svc\nports:\n- 80\n- 443\n")
    local config = assert(yaml.decode("retries: 3\nhosts: [a, b]\n"))
    assert(config.retries == 3 and config.hosts[2] == "b")

    local _, err = yaml.decode("key: [unclosed")
    assert(err:kind() == errors.INTERNAL)               -- malformed YAML is a value, not a crash
    return true
end

return {main = main}
