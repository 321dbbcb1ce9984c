"""Data for apps: the `sql`, `store`, `env`, `fs`, `hash` and `yaml` Lua modules and the
entry kinds behind them (`db.sql.*`, `store.*`, `env.*`, `fs.directory`).

Layout: the pure Python cores (`sqldb`, `kvstore`, `envstore`, `fsdir`) know nothing of Lua;
`resources` builds them from registry entries, once per app; `lua_*` files bind them to Lua
through `bridge.Bridge`, the one place that touches the Lua host. `plugin` publishes the
entry kinds (`actors.kinds`) and `modules` the Lua modules (`actors.lua_modules`).
"""
