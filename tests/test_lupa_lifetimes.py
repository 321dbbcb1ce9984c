"""The lupa hazard the Lua runtime is built around (docs/lua-runtime.md): a Lua object that
reaches Python while a coroutine runs is bound to that coroutine, and using it after the
coroutine was collected crashes the interpreter. Run in a subprocess: the crash is real."""

from __future__ import annotations

import subprocess
import sys
import textwrap

HAZARD = textwrap.dedent(
    """
    import lupa.lua54 as lua
    rt = lua.LuaRuntime(encoding=None)
    kept = []
    run = rt.eval('''function(cb)
      local co = coroutine.create(function() cb(function(x) return x + 1 end) end)
      coroutine.resume(co)
    end''')
    run(kept.append)
    churn = rt.eval('''function()
      local t = {}
      for i = 1, 20000 do t[i] = coroutine.create(function() end) end
      collectgarbage(); collectgarbage()
    end''')
    for _ in range(5):
        churn()
    print(kept[0](41))
    """
)


def test_keeping_a_lua_object_from_a_coroutine_crashes() -> None:
    """If this starts passing, lupa fixed the hazard and the slot design could be relaxed."""
    result = subprocess.run([sys.executable, "-c", HAZARD], capture_output=True, timeout=60)
    assert result.returncode != 0 and b"42" not in result.stdout


def test_the_runtime_survives_many_short_lived_coroutines_passing_values(tmp_path) -> None:
    """The same pattern through the runtime: values cross channels between coroutines that
    end at once, and the interpreter exits cleanly."""
    script = textwrap.dedent(
        f"""
        import anyio, sys
        sys.path.insert(0, {str(__import__("pathlib").Path(__file__).parent.parent)!r})
        from pathlib import Path
        from tests.lua_harness import run_lua
        MAIN = '''
        return {{main = function()
          local ch = channel.new(100)
          for i = 1, 300 do
            coroutine.spawn(function() ch:send({{n = i, f = function() end}}) end)
          end
          local sum = 0
          for _ = 1, 300 do sum = sum + ch:receive().n end
          for _ = 1, 5 do
            local t = {{}}
            for i = 1, 5000 do t[i] = coroutine.create(function() end) end
          end
          return sum
        end}}
        '''
        event = anyio.run(run_lua, Path({str(tmp_path)!r}), MAIN)
        print(event.value, event.error)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert result.stdout.decode().split() == ["45150", "None"]
