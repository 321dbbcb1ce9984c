%% The Erlang baselines of the Lua benchmarks (issue 8), run by benchmarks/erlang_baseline.py
%% in the same run as ours: `pingpong`, two processes bouncing {ping, self()};
%% `spawn`, spawn + monitor + 'DOWN' of a child that exits at once.
-module(bench).
-export([main/1, pong/0, ping/2]).  % pong and ping serve distbench.erl too

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
