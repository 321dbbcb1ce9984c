"""Pure cores shared by every package: Go time (`gotime`), the JSON codec and JSON Schema
validation (`jsoncodec`), UUIDs (`uuids`) and crypto helpers (`cryptolib`).

They know nothing of Lua, hosts or Temporal: plain Python values in and out, errors as
`actors.errors` kinds. `actors`, `lua_bindings` and `temporal_host` all import them.
"""
