%% The Erlang baseline of `node_pingpong` (issue 11), run by benchmarks/erlang_baseline.py in
%% the same run as ours: two Erlang nodes on this machine (distributed Erlang over loopback),
%% a process on each bouncing {ping, self(), I}. Called on the pinging node with the name
%% of the other node, which it stops at the end.
-module(distbench).
-export([main/1]).

main([Peer, N]) ->
    Node = list_to_atom(Peer),
    case net_kernel:connect_node(Node) of
        true -> ok;
        false -> io:format(standard_error, "cannot reach node ~p~n", [Node]), halt(1)
    end,
    Count = list_to_integer(N),
    Rate = lists:max([run(Node, Count) || _ <- lists:seq(1, 3)]),
    io:format("~p~n", [Rate]),
    rpc:call(Node, init, stop, []),
    halt().

run(Node, N) ->
    Pong = spawn(Node, bench, pong, []),
    T0 = erlang:monotonic_time(),
    bench:ping(Pong, N),
    Pong ! stop,
    N / (erlang:convert_time_unit(erlang:monotonic_time() - T0, native, microsecond) / 1.0e6).
