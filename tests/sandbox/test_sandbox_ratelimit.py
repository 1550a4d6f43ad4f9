"""The sandbox's per-tenant rate limit (429 + Retry-After), and the slow answer of a fault rule."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from activities import error_system
from activities.errors import classify, parse_error, retry_after
from onboarding_client.contract.errors import ErrorClass
from sandbox.config import ConfigError, load_config
from sandbox.unico.ratelimit import TenantRateLimit, TokenBucket
from tests.sandbox.client import (
    ISS,
    bearer,
    client_for,
    create_body,
    make_config,
    private_key,
    public_pem,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_spends_its_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=4, burst=2, now=0.0)
    assert [bucket.take(0.0) for _ in range(2)] == [0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.25)  # one token comes every 1/rate seconds
    assert bucket.take(0.1) == pytest.approx(0.15)
    assert bucket.take(0.25) == 0.0
    assert bucket.take(10.0) == 0.0  # a long pause banks no more than the burst
    assert bucket.take(10.0) == 0.0
    assert bucket.take(10.0) > 0


def test_no_second_admits_more_than_rate_plus_burst() -> None:
    clock = FakeClock()
    limit = TenantRateLimit(rate=10, burst=3, clock=clock)
    admitted = []
    for _ in range(5000):  # a request every millisecond for 5 s
        clock.now += 0.001
        if limit.admit("tenant") == 0:
            admitted.append(clock.now)
    assert len(admitted) == pytest.approx(3 + 10 * 5, abs=1)
    windows = [sum(1 for t in admitted if start <= t < start + 1) for start in admitted]
    assert max(windows) <= 10 + 3
    assert limit.refused == 5000 - len(admitted)
    assert len(limit.arrivals) == 5000, "every arrival is kept, refused or not"


def test_tenants_have_buckets_of_their_own_and_zero_means_no_limit() -> None:
    clock = FakeClock()
    limit = TenantRateLimit(rate=1, burst=1, clock=clock)
    assert (limit.admit("a"), limit.admit("b")) == (0.0, 0.0)
    assert limit.admit("a") > 0
    unlimited = TenantRateLimit(rate=0, clock=clock)
    assert all(unlimited.admit("a") == 0 for _ in range(1000))


async def test_over_the_limit_unico_answers_429_with_retry_after() -> None:
    async with client_for(make_config(tenant_rate_limit=2, tenant_rate_burst=2)) as client:
        auth = await bearer(client)
        answers = [
            await client.post("/processes/v1", json=create_body(), headers=auth) for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]
        refused = answers[-1]
        assert refused.headers["retry-after"] == "1"  # whole seconds, never 0
        process = error_system("unico-process")
        details = parse_error(process, refused)
        assert classify(process, details.code, details.http_status) is (ErrorClass.RATE_LIMITED)
        assert retry_after(refused) is not None
        # Another tenant has its own budget; the token endpoint has none.
        other = await client.get("/processes/v1/x", headers={**auth, "APIKEY": "other"})
        assert other.json()["error"]["code"] == 10201  # refused for its key, not its rate
        assert (await bearer(client))["APIKEY"]
        seen = (await client.get("/_sandbox/rate-limit")).json()
        assert (seen["rate"], seen["burst"], seen["refused"]) == (2, 2, 1)
        assert len(seen["arrivals"]) == 4
        stats = (await client.get("/_sandbox/stats")).json()
        assert stats["create_requests"] == 2, "a refused request never reaches the endpoint"

        await client.post("/_sandbox/reset")
        seen = (await client.get("/_sandbox/rate-limit")).json()
        assert (seen["refused"], seen["arrivals"]) == (0, [])


async def test_without_a_limit_every_request_is_recorded_and_admitted() -> None:
    async with client_for(make_config()) as client:
        auth = await bearer(client)
        for _ in range(20):
            created = await client.post("/processes/v1", json=create_body(), headers=auth)
            assert created.status_code == 200
        seen = (await client.get("/_sandbox/rate-limit")).json()
        assert (seen["rate"], seen["refused"], len(seen["arrivals"])) == (0, 0, 20)


async def test_a_slow_answer_comes_after_the_work_is_done() -> None:
    async with client_for(make_config()) as client:
        auth = await bearer(client)
        rule = {"endpoint": "create", "delay_seconds": 1.0}
        assert (await client.post("/_sandbox/faults", json=rule)).status_code == 200
        call = asyncio.create_task(client.post("/processes/v1", json=create_body(), headers=auth))
        while (await client.get("/_sandbox/stats")).json()["processes_created"] == 0:
            await asyncio.sleep(0.01)
        assert not call.done(), "the process exists while its answer is still held back"
        assert (await call).status_code == 200


def _key(tmp_path: Path) -> list[str]:
    path = tmp_path / "public.pem"
    path.write_bytes(public_pem(private_key()))
    return ["--public-key", str(path), "--service-account", ISS, "--api-key", "k"]


def test_rate_limit_flags_and_environment(tmp_path: Path) -> None:
    config = load_config([*_key(tmp_path), "--tenant-rate-limit", "10"], {})
    assert (config.tenant_rate_limit, config.rate_burst) == (10, 10)  # one second's worth
    env = {"SANDBOX_TENANT_RATE_BURST": "3"}
    config = load_config([*_key(tmp_path), "--tenant-rate-limit", "0.5"], env)
    assert config.rate_burst == 3
    assert load_config(_key(tmp_path), {}).tenant_rate_limit == 0


@pytest.mark.parametrize("extra", [["--tenant-rate-limit", "fast"], ["--tenant-rate-burst", "-1"]])
def test_bad_rate_limit_values_are_config_errors(tmp_path: Path, extra: list[str]) -> None:
    with pytest.raises(ConfigError):
        load_config([*_key(tmp_path), *extra], {})
