"""When Unico's calls beat: not for a call that answers before its first beat is due, then
often enough that a live worker never misses the server's heartbeat timeout."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import timedelta

from temporalio.testing import ActivityEnvironment

from activities.heartbeats import FIRST_BEAT_SHARE, heartbeating

TIMEOUT = timedelta(seconds=0.5)  # the first beat due 0.2 s into the call
EVERY = 0.05


def environment(heartbeat_timeout: timedelta | None, beats: list[float]) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_timeout=heartbeat_timeout)
    env.on_heartbeat = lambda *details: beats.append(time.monotonic())
    return env


async def call_lasting(seconds: float) -> float:
    began = time.monotonic()
    async with heartbeating(every=EVERY):
        await asyncio.sleep(seconds)
    return began


async def test_a_call_that_answers_before_the_first_beat_is_due_sends_none() -> None:
    beats: list[float] = []
    await environment(TIMEOUT, beats).run(call_lasting, 0.05)
    await asyncio.sleep(TIMEOUT.total_seconds())  # nothing beats after the call either
    assert beats == []


async def test_a_long_call_beats_from_its_share_of_the_timeout_on() -> None:
    beats: list[float] = []
    began = await environment(TIMEOUT, beats).run(call_lasting, 0.6)
    first_due = TIMEOUT.total_seconds() * FIRST_BEAT_SHARE
    assert beats, "a call longer than the first beat's delay beats"
    assert beats[0] - began >= first_due
    # Each gap well inside the timeout, the first from the call's start included.
    gaps = [b - a for a, b in zip([began, *beats], beats, strict=False)]
    assert max(gaps) < TIMEOUT.total_seconds()
    assert len(beats) >= 3


async def test_no_heartbeat_timeout_means_no_beats() -> None:
    beats: list[float] = []
    await environment(None, beats).run(call_lasting, 0.3)
    assert beats == []


async def test_outside_an_activity_the_block_just_runs() -> None:
    assert await call_lasting(0.01) > 0
