"""The selfie's release inside the Unico call that settles the process, with the real
activities, a real selfie store and the sandbox over HTTP: the create that answers status 3,
the read that answers it, a retried create that finds the tombstone, the retention period,
and a store that fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.testing import ActivityEnvironment

from activities.selfies.cleanup import SelfieCleanup
from activities.selfies.local_store import SelfieStore
from activities.unico.auth import ServiceAccount, TokenCache
from activities.unico.processes import UnicoActivities
from contracts.selfies import SelfieRelease
from contracts.unico import CreateProcessInput, OpenedProcess, ReadProcess, ReadProcessInput
from devstack.demo import SAMPLE_SELFIE
from onboarding_client.contract.request import Subject
from tests.support import API_KEY, SERVICE_ACCOUNT, KeyPair, Sandbox

SYNC_CPF, ASYNC_CPF = "12345678909", "00000000272"  # status 3 at once; status 1, then 3
DELETED = SelfieRelease(deleted=True)


class FailingRelease(SelfieStore):
    """A store whose disk refuses the tombstone: reads and creates still work."""

    def release(self, ref: str, process_id: str) -> None:
        raise OSError("no space left on device")


@pytest.fixture
def store(tmp_path: Path) -> SelfieStore:
    return SelfieStore(tmp_path / "selfies")


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def unico(sandbox: Sandbox, keys: KeyPair, http: httpx.AsyncClient) -> Unico:
    """The Unico activities over `store`, keeping selfies `retention` seconds."""

    def activities(store: SelfieStore, retention: float = 0) -> UnicoActivities:
        return unico_activities(sandbox, keys, http, store, retention)

    return activities


Unico = Callable[..., UnicoActivities]


def unico_activities(
    sandbox: Sandbox, keys: KeyPair, http: httpx.AsyncClient, store: SelfieStore, retention: float
) -> UnicoActivities:
    account = ServiceAccount.from_key_file(
        SERVICE_ACCOUNT, sandbox.url, f"{sandbox.url}/oauth2/token", keys.private
    )
    tokens = TokenCache(account, http, safety_margin=60)
    cleanup = SelfieCleanup(store, retention)
    return UnicoActivities(http, tokens, store, sandbox.url, API_KEY, cleanup)


def create_input(store: SelfieStore, cpf: str) -> CreateProcessInput:
    return CreateProcessInput(
        subject=Subject(code=cpf, name="Maria Silva"),
        use_case="Onboarding",
        subsidiary_id=None,
        selfie_ref=store.put(SAMPLE_SELFIE.read_bytes()),
    )


async def open_process(activities: UnicoActivities, asked: CreateProcessInput) -> OpenedProcess:
    opened: OpenedProcess = await ActivityEnvironment().run(activities.open_process, asked)
    return opened


async def test_a_create_that_settles_releases_the_selfie(unico: Unico, store: SelfieStore) -> None:
    asked = create_input(store, SYNC_CPF)
    opened = await open_process(unico(store), asked)
    assert opened.process is not None and opened.process.status == 3
    assert opened.release == DELETED
    assert not store.exists(asked.selfie_ref), "the selfie is gone"


async def test_a_retried_create_reads_the_process_its_tombstone_names(
    unico: Unico, sandbox: Sandbox, store: SelfieStore
) -> None:
    activities = unico(store)
    asked = create_input(store, SYNC_CPF)
    before = sandbox.stats()  # the session's sandbox: counted as deltas
    first = await open_process(activities, asked)
    # The answer was lost (the worker died after the release): Temporal runs it again.
    again = await open_process(activities, asked)
    assert first.process is not None and again.process is not None
    assert again.process.id == first.process.id and again.process.status == 3
    assert again.release == DELETED
    after = sandbox.stats()
    created = after["processes_created"] - before["processes_created"]
    assert created == 1, "no second process at Unico"
    assert after["get_requests"] - before["get_requests"] == 1, "the retry read it instead"


async def test_the_read_that_settles_releases_it(unico: Unico, store: SelfieStore) -> None:
    activities = unico(store)
    asked = create_input(store, ASYNC_CPF)
    opened = await open_process(activities, asked)
    assert opened.process is not None and opened.process.status == 1
    assert opened.release is None and store.exists(asked.selfie_ref), "still needed"
    read_input = ReadProcessInput(process_id=opened.process.id, selfie_ref=asked.selfie_ref)
    reads: list[ReadProcess] = []
    while not reads or reads[-1].process.status == 1:  # the sandbox answers after its delay
        await asyncio.sleep(0.5)
        reads.append(await ActivityEnvironment().run(activities.read_process, read_input))
    assert [read.release for read in reads[:-1]] == [None] * (len(reads) - 1)
    assert reads[-1].process.status == 3 and reads[-1].release == DELETED
    assert not store.exists(asked.selfie_ref)


async def test_a_retention_period_keeps_the_selfie(unico: Unico, store: SelfieStore) -> None:
    asked = create_input(store, SYNC_CPF)
    opened = await open_process(unico(store, retention=30), asked)
    assert opened.release == SelfieRelease(deleted=False, keep_seconds=30)
    assert store.exists(asked.selfie_ref), "the retention workflow deletes it later"


async def test_a_store_that_fails_costs_the_answer_nothing(
    unico: Unico, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FailingRelease(tmp_path / "failing")
    asked = create_input(store, SYNC_CPF)
    opened = await open_process(unico(store), asked)
    assert opened.process is not None and opened.process.status == 3
    assert opened.release is None, "the onboarding's end releases it"
    assert store.exists(asked.selfie_ref)
    assert "release failed" in caplog.text
    assert asked.selfie_ref not in caplog.text
