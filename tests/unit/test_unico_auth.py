"""Service-account auth: the RS256 assertion, and the token cache against the real sandbox.

The sandbox runs as a child process (one per module) and is reached over real HTTP; its
`/_sandbox/stats` counter `token_requests` is the ground truth for "how many refreshes".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import jwt
import pytest
from temporalio.exceptions import ApplicationError

from activities.unico.auth import EXP_OFFSETS, ServiceAccount, TokenCache, build_assertion
from tests.support import (
    API_KEY,
    SERVICE_ACCOUNT,
    KeyPair,
    Sandbox,
    make_key_pair,
    running_sandbox,
)
from workflows.reactions import WORKFLOW_HANDLED

MARGIN = 300.0  # the default TOKEN_SAFETY_MARGIN_SECONDS
DEFAULT_LIFETIME = 3600  # the sandbox's default token lifetime


# --- build_assertion ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("auth-keys"))


@pytest.fixture(scope="module")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("auth-other-keys"))


def account_for(
    keys: KeyPair, audience: str = "https://identityhomolog.acesso.io"
) -> ServiceAccount:
    return ServiceAccount.from_key_file(
        SERVICE_ACCOUNT, audience, f"{audience}/oauth2/token", keys.private
    )


def test_assertion_verifies_with_the_public_key_and_has_exactly_unicos_claims(
    keys: KeyPair,
) -> None:
    account = account_for(keys)
    now = time.time()
    token = build_assertion(account, now)

    claims = jwt.decode(
        token,
        keys.public.read_bytes(),
        algorithms=["RS256"],
        audience=account.audience,
        issuer=SERVICE_ACCOUNT,
    )

    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT"}
    assert set(claims) == {"iss", "aud", "scope", "iat", "exp"}
    assert claims["iss"] == SERVICE_ACCOUNT
    assert claims["aud"] == account.audience
    assert claims["scope"] == "*"
    assert claims["iat"] == int(now)
    assert 0 < claims["exp"] - claims["iat"] <= 3600


def test_assertion_does_not_verify_with_another_public_key(
    keys: KeyPair, other_keys: KeyPair
) -> None:
    token = build_assertion(account_for(keys), time.time())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other_keys.public.read_bytes(), algorithms=["RS256"], audience="x")


def test_assertions_signed_in_the_same_second_differ(keys: KeyPair) -> None:
    # RS256 (PKCS#1 v1.5) is deterministic and `iat` has one-second resolution, so without
    # the random `exp` these would all be one string and Unico would refuse every one after
    # the first as reused (1.2.7). `exp` spans about 3,500 seconds, so 20 draws are almost
    # surely all distinct; we ask for more than half distinct, which no fixed `exp` can
    # produce and a working draw fails with a probability far below 1e-20.
    account = account_for(keys)
    now = time.time()
    tokens = [build_assertion(account, now) for _ in range(20)]
    exps = {jwt.decode(t, options={"verify_signature": False})["exp"] for t in tokens}
    assert len(set(tokens)) > len(tokens) // 2
    assert len(exps) == len(set(tokens))  # the only thing that differs is `exp`


async def test_one_cache_never_signs_the_same_assertion_twice(
    keys: KeyPair, http: httpx.AsyncClient
) -> None:
    cache = TokenCache(account_for(keys), http, safety_margin=MARGIN, clock=lambda: 1_000.0)
    # Refused tokens refreshed in a quick row sign many in one second: none may repeat any
    # earlier one of that second, not only the one just before (2,000 random draws of
    # about 3,500 values repeat one for certain).
    offsets = [cache._unused_exp_offset(1_000.0) for _ in range(2_000)]
    assert len(set(offsets)) == len(offsets)
    assert all(offset in EXP_OFFSETS for offset in offsets)
    assert cache._unused_exp_offset(1_001.0) in EXP_OFFSETS


async def test_a_second_whose_every_assertion_is_spent_signs_no_more(
    keys: KeyPair, http: httpx.AsyncClient
) -> None:
    cache = TokenCache(account_for(keys), http, safety_margin=MARGIN, clock=lambda: 1_000.0)
    offsets = {cache._unused_exp_offset(1_000.0) for _ in EXP_OFFSETS}
    assert offsets == set(EXP_OFFSETS)  # every one of the second, each once
    with pytest.raises(RuntimeError, match="spent"):
        cache._unused_exp_offset(1_000.0)
    assert cache._unused_exp_offset(1_001.0) in offsets  # the next second starts afresh


def test_service_account_repr_hides_the_private_key(keys: KeyPair) -> None:
    account = account_for(keys)
    text = repr(account)
    assert SERVICE_ACCOUNT in text
    assert "PRIVATE KEY" not in text
    assert account.private_key_pem.decode() not in text
    assert str(account) == text  # a dataclass's str is its repr: same guarantee


# --- TokenCache against the sandbox ---------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(keys: KeyPair, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    log = tmp_path_factory.mktemp("auth-sandbox") / "sandbox.log"
    with running_sandbox(keys, async_delay=1.0, log=log) as running:
        yield running


@pytest.fixture
def fresh_sandbox(sandbox: Sandbox) -> Iterator[Sandbox]:
    """Counters, issued tokens and the lock-out start from zero; the lifetime from default."""
    sandbox.reset()
    yield sandbox
    sandbox.configure(token_lifetime_seconds=DEFAULT_LIFETIME)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


class SteppingClock:
    """Wall time, except that every reading is at least one second after the previous one.

    Whole-second steps give every refresh its own `iat` and make the lifetime arithmetic
    below exact. The few seconds it runs ahead stay far inside every lifetime and margin.
    """

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self) -> float:
        self._last = max(time.time(), self._last + 1.0)
        return self._last


def cache_for(
    keys: KeyPair, sandbox: Sandbox, http: httpx.AsyncClient, margin: float = MARGIN
) -> TokenCache:
    # The sandbox's audience is its own URL, as Unico's is its token host.
    account = account_for(keys, audience=sandbox.url)
    return TokenCache(account, http, safety_margin=margin, clock=SteppingClock())


def token_requests(sandbox: Sandbox) -> int:
    return int(sandbox.stats()["token_requests"])


async def test_first_call_refreshes_and_the_second_is_served_from_cache(
    keys: KeyPair, fresh_sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    cache = cache_for(keys, fresh_sandbox, http)

    first = await cache.token()
    assert token_requests(fresh_sandbox) == 1
    second = await cache.token()
    assert token_requests(fresh_sandbox) == 1
    assert second == first
    assert cache.refresh_count == 1

    # The token is the sandbox's own: its process API lets it through to the lookup.
    answer = await http.get(
        f"{fresh_sandbox.url}/processes/v1/no-such-process",
        headers={"Authorization": f"Bearer {first}", "APIKEY": API_KEY},
    )
    assert answer.status_code == 404


async def test_concurrent_callers_on_a_cold_cache_share_one_refresh(
    keys: KeyPair, fresh_sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    cache = cache_for(keys, fresh_sandbox, http)

    tokens = await asyncio.gather(*(cache.token() for _ in range(20)))

    assert len(set(tokens)) == 1
    assert token_requests(fresh_sandbox) == 1
    assert fresh_sandbox.stats()["tokens_issued"] == 1


@pytest.mark.parametrize(
    ("lifetime", "margin", "requests_for_three_calls"),
    [
        (DEFAULT_LIFETIME, MARGIN, 1),
        (400, MARGIN, 1),  # 400 s left > 300 s margin: cached
        # Shorter than twice the margin: half the lifetime is the margin, so it is cached.
        (200, MARGIN, 1),
        (int(MARGIN), MARGIN, 1),
        (2, MARGIN, 3),  # the clock steps 1 s a reading: 1 s left is not more than 1 s
        (0, 0.0, 3),
    ],
)
async def test_token_lifetime_against_the_safety_margin(
    keys: KeyPair,
    fresh_sandbox: Sandbox,
    http: httpx.AsyncClient,
    lifetime: int,
    margin: float,
    requests_for_three_calls: int,
) -> None:
    fresh_sandbox.configure(token_lifetime_seconds=lifetime)
    cache = cache_for(keys, fresh_sandbox, http, margin=margin)

    tokens = [await cache.token() for _ in range(3)]

    assert token_requests(fresh_sandbox) == requests_for_three_calls
    assert len(set(tokens)) == requests_for_three_calls


async def test_invalidating_the_current_token_forces_a_refresh(
    keys: KeyPair, fresh_sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    cache = cache_for(keys, fresh_sandbox, http)
    first = await cache.token()

    cache.invalidate("some-older-token")  # not the cached one: nothing happens
    assert await cache.token() == first
    assert token_requests(fresh_sandbox) == 1

    cache.invalidate(first)
    second = await cache.token()
    assert second != first
    assert token_requests(fresh_sandbox) == 2


async def test_concurrent_callers_after_an_invalidation_share_one_request(
    keys: KeyPair, fresh_sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    cache = cache_for(keys, fresh_sandbox, http)
    refused = await cache.token()
    cache.invalidate(refused)

    tokens = await asyncio.gather(*(cache.token() for _ in range(10)))

    assert len(set(tokens)) == 1 and refused not in tokens
    assert token_requests(fresh_sandbox) == 2


async def test_a_wrong_key_is_a_configuration_error_for_an_operator(
    keys: KeyPair, other_keys: KeyPair, fresh_sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    cache = cache_for(other_keys, fresh_sandbox, http)

    with pytest.raises(ApplicationError) as caught:
        await cache.token()

    error = caught.value
    assert error.type == "configuration"
    assert error.type in WORKFLOW_HANDLED, "an operator must act: the workflow waits, no retry"
    details = error.details[0]
    assert details["system"] == "unico-auth"
    assert details["code"] == "1.2.5"  # sandbox/auth.py: the signature does not verify
    assert details["http_status"] == 401
    assert "1.2.5" in str(error)
    stats: dict[str, object] = dict(fresh_sandbox.stats())  # by_code is a nested dict
    assert stats["by_code"] == {"1.2.5": 1}
    assert stats["tokens_issued"] == 0


async def test_no_token_or_key_in_reprs(
    keys: KeyPair, fresh_sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    account = account_for(keys, audience=fresh_sandbox.url)
    cache = TokenCache(account, http, safety_margin=MARGIN)
    token = await cache.token()
    pem = keys.private.read_text()

    for text in (repr(account), repr(cache)):
        assert token not in text
        assert pem not in text
        assert "PRIVATE KEY" not in text
