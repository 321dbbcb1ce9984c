"""The shop app from Python: the `actors_app` fixture boots it once per session (its
Temporal server embedded, in memory); processes are spawned and talked to by PID."""

from __future__ import annotations

import pytest

import actors


def test_the_cart_answers_a_python_mailbox(actors_app, actors_mailbox) -> None:
    cart = actors_app.spawn("shop:cart")
    actors_app.send(cart, "add", {"item": "apple", "price": 3})
    actors_app.send(cart, "add", {"item": "cheese", "price": 12})
    actors_mailbox.send(cart, "total")  # sent from the mailbox's PID: the reply comes back
    assert actors_mailbox.receive("total").payload == 15


def test_checkout_runs_as_a_workflow(actors_app) -> None:
    order = {"customer": "bo", "items": ["bread", "apple"]}
    assert actors_app.run("shop:checkout", order) == {"customer": "bo", "total": 8}


def test_an_unknown_item_fails_the_checkout(actors_app) -> None:
    with pytest.raises(actors.ActorError, match="no such item: caviar"):
        actors_app.run("shop:checkout", {"customer": "cy", "items": ["caviar"]})


def test_the_workflows_are_on_the_test_server(actors_app, temporal_env) -> None:
    actors_app.run("shop:checkout", {"customer": "di", "items": ["apple"]})

    async def customers() -> list[str]:
        found = []
        async for execution in temporal_env.client.list_workflows():
            if execution.workflow_type == "shop:checkout":
                found.append(execution.id)
        return found

    assert actors_app.call(customers)
