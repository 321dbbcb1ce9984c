%% The Erlang baselines of the Lua benchmarks (issue 8), run by benchmarks/erlang_baseline.py
%% in the same run as ours: `pingpong`, two processes bouncing {ping, self()};
%% `spawn`, spawn + monitor + 'DOWN' of a child that exits at once; `idle`, the CPU seconds
%% of spawning N processes that each block in receive (lua_idle_memory's 10x check: one run
%% per VM, with one scheduler, as ours runs one per interpreter on one thread).
-module(bench).
-export([main/1, pong/0, ping/2, idle/0]).  % pong and ping serve distbench.erl too

main(["idle", N]) ->
    io:format("~p~n", [idle_seconds(list_to_integer(N))]),
    halt();
main([Which, N]) ->
    Count = list_to_integer(N),
    Rate = best(3, fun() -> run(list_to_atom(Which), Count) end),
    io:format("~p~n", [Rate]),
    halt().

best(Rounds, F) -> lists:max([F() || _ <- lists:seq(1, Rounds)]).

run(pingpong, N) ->
    Pong = spawn(fun pong/0),
    T0 = erlang:monotonic_time(),
    ping(Pong, N),
    Pong ! stop,
    N / seconds_since(T0);
run(spawn, N) ->
    T0 = erlang:monotonic_time(),
    spawn_loop(N),
    N / seconds_since(T0).

seconds_since(T0) ->
    erlang:convert_time_unit(erlang:monotonic_time() - T0, native, microsecond) / 1.0e6.

pong() ->
    receive
        {ping, From, I} -> From ! {pong, I}, pong();
        stop -> ok
    end.

ping(_, 0) -> ok;
ping(Pong, N) ->
    Pong ! {ping, self(), N},
    receive {pong, N} -> ping(Pong, N - 1) end.

spawn_loop(0) -> ok;
spawn_loop(N) ->
    {_, Ref} = spawn_monitor(fun() -> ok end),
    receive {'DOWN', Ref, process, _, _} -> spawn_loop(N - 1) end.

idle_seconds(N) ->
    statistics(runtime),
    Pids = [spawn(fun idle/0) || _ <- lists:seq(1, N)],
    wait_blocked(lists:last(Pids)),
    {_, Ms} = statistics(runtime),
    Ms / 1000.

idle() -> receive stop -> ok end.

%% One scheduler runs its queue in order: once the last child waits, every child does.
wait_blocked(Pid) ->
    case erlang:process_info(Pid, status) of
        {status, waiting} -> ok;
        _ -> erlang:yield(), wait_blocked(Pid)
    end.
