"""The Unico activities against a real sandbox: the ambiguous-create window and the token
that Unico refuses. Each call is counted at the sandbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.selfies import SelfieCleanup, SelfieStore
from activities.selfies.backend import Claim
from activities.unico.auth import ServiceAccount, TokenCache
from activities.unico.processes import UnicoActivities
from contracts.unico import CreateProcessInput, OpenedProcess, ReadProcessInput, UnicoProcess
from devstack.demo import SAMPLE_SELFIE
from devstack.stack import free_port
from onboarding_client.contract.errors import ErrorClass
from onboarding_client.contract.request import Subject
from tests.support import API_KEY, SERVICE_ACCOUNT, KeyPair, Sandbox, make_key_pair, running_sandbox
from workflows.reactions import WORKFLOW_HANDLED

READ_TIMEOUT = 0.5
SCORED_LATER = "00000000272"  # still running at the create's answer: a read follows


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("window-keys"))


@pytest.fixture(scope="module")
def sandbox(keys: KeyPair, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    log = tmp_path_factory.mktemp("window-sandbox") / "sandbox.log"
    with running_sandbox(keys, 0.0, log) as running:
        yield running


def activities_for(
    url: str, keys: KeyPair, http: httpx.AsyncClient, selfies: SelfieStore
) -> UnicoActivities:
    account = ServiceAccount.from_key_file(
        SERVICE_ACCOUNT, url, f"{url}/oauth2/token", keys.private
    )
    tokens = TokenCache(account, http, safety_margin=60)
    return UnicoActivities(http, tokens, selfies, url, API_KEY, SelfieCleanup(selfies, 0))


@pytest_asyncio.fixture
async def unico(sandbox: Sandbox, keys: KeyPair, tmp_path: Path) -> AsyncIterator[UnicoActivities]:
    sandbox.reset()
    async with httpx.AsyncClient(timeout=httpx.Timeout(READ_TIMEOUT, connect=5)) as http:
        yield activities_for(sandbox.url, keys, http, SelfieStore(tmp_path / "selfies"))


def create_input(tmp_path: Path, cpf: str = "12345678909") -> CreateProcessInput:
    ref = SelfieStore(tmp_path / "selfies").put(SAMPLE_SELFIE.read_bytes())
    subject = Subject(code=cpf, name="Maria Silva")
    return CreateProcessInput(
        subject=subject, use_case="Onboarding", subsidiary_id=None, selfie_ref=ref
    )


async def create(unico: UnicoActivities, tmp_path: Path) -> UnicoProcess:
    opened: OpenedProcess = await ActivityEnvironment().run(
        unico.open_process, create_input(tmp_path)
    )
    assert opened.process is not None
    return opened.process


async def failure(unico: UnicoActivities, tmp_path: Path) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await create(unico, tmp_path)
    return caught.value


@pytest.mark.parametrize(
    "rule",
    [
        {"endpoint": "create", "delay_seconds": READ_TIMEOUT * 3},  # a slow answer
        {"endpoint": "create", "drop_connection": True},  # no answer at all
    ],
)
async def test_a_create_that_may_have_arrived_is_not_retried_blindly(
    unico: UnicoActivities, sandbox: Sandbox, tmp_path: Path, rule: dict[str, object]
) -> None:
    sandbox.inject(rule)
    err = await failure(unico, tmp_path)
    assert err.type == ErrorClass.AMBIGUOUS_CREATE
    assert err.type in WORKFLOW_HANDLED, "the workflow decides, not a retry"
    assert err.details[0]["ambiguous"] is True
    assert sandbox.stats()["create_requests"] == 1, "the HTTP client did not send it twice"
    deadline = time.monotonic() + 10
    while sandbox.stats()["processes_created"] == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # a slow answer's process is made while the sandbox waits
    assert sandbox.stats()["processes_created"] == 1, "Unico holds a process nobody heard of"


async def test_a_slow_get_is_transient(
    unico: UnicoActivities, sandbox: Sandbox, tmp_path: Path
) -> None:
    process = await create(unico, tmp_path)
    sandbox.inject({"endpoint": "get", "delay_seconds": READ_TIMEOUT * 3})
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            unico.read_process,
            ReadProcessInput(process_id=process.id, selfie_ref="local:" + "0" * 32),
        )
    assert (caught.value.type, caught.value.non_retryable) == ("transient", False)
    assert "transient" not in WORKFLOW_HANDLED


async def test_a_create_that_never_connected_is_transient(keys: KeyPair, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    async with httpx.AsyncClient(timeout=READ_TIMEOUT) as http:
        unico = activities_for(url, keys, http, SelfieStore(tmp_path / "selfies"))
        err = await failure(unico, tmp_path)
    assert (err.type, err.non_retryable) == ("transient", False)  # nothing reached Unico


async def test_a_refused_token_leaves_the_cache(
    unico: UnicoActivities, sandbox: Sandbox, tmp_path: Path
) -> None:
    await create(unico, tmp_path)  # a token in the cache
    sandbox.inject({"endpoint": "create", "code": 10502})
    err = await failure(unico, tmp_path)
    assert err.type == "token_expired"
    assert err.type in WORKFLOW_HANDLED, "the workflow gets a new token"
    before = sandbox.stats()["token_requests"]
    await create(unico, tmp_path)
    assert sandbox.stats()["token_requests"] == before + 1, "the next call got a new token"


async def test_an_answer_that_died_with_its_worker_is_reported_by_the_retry(
    unico: UnicoActivities, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The create answered, but its worker died before the workflow heard of it: the
    activity's retry creates again and reports the first create, which Unico holds."""
    created = create_input(tmp_path, SCORED_LATER)
    scheduled = ActivityEnvironment()  # one scheduled activity: its retry is the same one
    first: OpenedProcess = await scheduled.run(unico.open_process, created)
    assert first.process is not None and not first.process.is_final
    assert first.unanswered_creates == 0

    retried: OpenedProcess = await scheduled.run(unico.open_process, created)
    assert retried.unanswered_creates == 1, "the first create is reported, not hidden"
    assert retried.process is not None and retried.process.id != first.process.id
    assert sandbox.stats()["processes_created"] == 2

    # The workflow heard the retry's answer and reads that process: no create is out.
    read = ReadProcessInput(process_id=retried.process.id, selfie_ref=created.selfie_ref)
    await scheduled.run(unico.read_process, read)
    again: OpenedProcess = await scheduled.run(unico.open_process, created)
    assert again.unanswered_creates == 0, "a create the workflow heard is not reported"


class ClaimsDown(SelfieStore):
    """A store whose claims cannot be read (a network store's outage)."""

    def read_claim(self, ref: str) -> Claim | None:
        raise OSError("the store is down")


async def test_a_read_is_answered_while_the_claims_cannot_be_read(
    sandbox: Sandbox, keys: KeyPair, tmp_path: Path
) -> None:
    sandbox.reset()
    created = create_input(tmp_path, SCORED_LATER)
    async with httpx.AsyncClient(timeout=5) as http:
        working = activities_for(sandbox.url, keys, http, SelfieStore(tmp_path / "selfies"))
        opened: OpenedProcess = await ActivityEnvironment().run(working.open_process, created)
        assert opened.process is not None
        down = activities_for(sandbox.url, keys, http, ClaimsDown(tmp_path / "selfies"))
        read = ReadProcessInput(process_id=opened.process.id, selfie_ref=created.selfie_ref)
        answer = await ActivityEnvironment().run(down.read_process, read)
    assert answer.process.id == opened.process.id, "the count stays; the answer comes"
