"""The one retry policy (agent_tui.retry.RetryPolicy) that the sync engine and the chain transport both run."""

from __future__ import annotations

import pytest

from agent_tui.retry import Backoff, RetryPolicy


class Busy(Exception):
    def __init__(self, retry_after=None):
        super().__init__("busy")
        self.retry_after = retry_after


def failing(times: int, exc=Busy):
    calls = []

    async def once():
        calls.append(1)
        if len(calls) <= times:
            raise exc()
        return len(calls)

    return once, calls


async def test_it_tries_again_until_the_call_answers_within_its_attempts():
    once, calls = failing(2)
    assert await RetryPolicy(attempts=3, backoff=Backoff(base=0.001)).run(once, Busy) == 3


async def test_it_gives_up_after_its_attempts_with_the_last_failure():
    once, calls = failing(10)
    with pytest.raises(Busy):
        await RetryPolicy(attempts=3, backoff=Backoff(base=0.001)).run(once, Busy)
    assert len(calls) == 3


async def test_other_failures_pass_straight_up_and_on_failure_hears_each_retried_one():
    once, calls = failing(10, exc=KeyError)
    with pytest.raises(KeyError):
        await RetryPolicy(attempts=5).run(once, Busy)
    assert len(calls) == 1
    heard = []
    once, calls = failing(10)
    with pytest.raises(Busy):
        await RetryPolicy(attempts=4, backoff=Backoff(base=0.001)).run(once, Busy, heard.append)
    assert len(heard) == 4


async def test_a_wait_longer_than_max_wait_is_not_waited_for():
    calls = []

    async def once():
        calls.append(1)
        raise Busy(retry_after=3600)

    with pytest.raises(Busy) as err:
        await RetryPolicy(attempts=5, max_wait=1.0).run(once, Busy)
    assert len(calls) == 1 and err.value.retry_after == 3600
