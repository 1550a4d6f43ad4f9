"""What payload encryption costs one onboarding (`make bench`, or `python -m bench codec`).

An onboarding that waits for Unico's webhook (create, the signal, one read, decide) writes
the payloads below to history; each is encoded once by its writer and decoded at least once
by a reader. The benchmark times that encode + decode through the pydantic converter alone
and through the project's converter (pydantic + AES-256-GCM), and reports the difference per
onboarding, with the bytes the encryption adds. Target: under 1 ms of CPU per onboarding,
next to the seconds it spends waiting for Unico.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from bench.result import BenchResult
from contracts.selfies import SelfieRelease
from contracts.unico import (
    CreateProcessInput,
    OpenedProcess,
    ReadProcess,
    ReadProcessInput,
    UnicoProcess,
)
from onboarding.temporal.converter import data_converter
from onboarding_client.contract.outcome import Outcome, Reason
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.keyring import Keyring, new_key
from onboarding_client.summary import static_details, static_summary

NAME = "codec"
ROUNDS = 2000
TARGET_US_PER_ONBOARDING = 1000.0
PROCESS_ID = "80371b2a-3ac7-432e-866d-57fe37896ac6"


def typical_onboarding() -> list[Any]:
    """The values one onboarding that waits for Unico's webhook puts in history, in the
    order they come: the encrypted payloads of its recorded history, one for one
    (tests/unit/test_bench.py keeps the two in step)."""
    request = OnboardingRequest.model_validate(
        {
            "request_id": "order-0001",
            "subject": {
                "code": "52998224725",
                "name": "Maria Aparecida da Silva",
                "email": "maria.silva@example.com.br",
                "phone": "5519972557070",
            },
            "selfie_ref": "local:5f0c2d9e8b7a4c3d2e1f0a9b8c7d6e5f",
        }
    )
    answer = {
        "id": PROCESS_ID,
        "unicoId": {"result": "inconclusive"},
        "identityFraudsters": {"result": "inconclusive"},
        "liveness": 1,
        "government": {"serpro": 50},
    }
    pending = UnicoProcess.model_validate({**answer, "status": 1})
    final = UnicoProcess.model_validate({**answer, "status": 3, "score": 90})
    result = OnboardingResult(
        outcome=Outcome.APPROVED,
        reasons=[Reason(code="score.approve", message="risk score 90 is in the approve band")],
        process_id=final.id,
        unico_status=3,
        unico_id="inconclusive",
        score=90,
        attempts=1,
    )
    create = CreateProcessInput(
        subject=request.subject,
        use_case=request.use_case,
        subsidiary_id=None,
        selfie_ref=request.selfie_ref,
        release_when_settled=True,
    )
    wait = "wait up to 2s for Unico (a webhook ends it early)"
    webhook = {"processId": PROCESS_ID, "state": "finished"}  # as the gateway signals it
    return [
        request.model_dump(mode="json"),  # the workflow's raw input
        static_summary(request),
        static_details(request),
        create,
        "check the selfie, create Unico process (attempt 1)",
        OpenedProcess(process=pending),
        wait,  # the timer's summary, on its start
        webhook,
        wait,  # and on its cancel
        ReadProcessInput(process_id=PROCESS_ID, selfie_ref=request.selfie_ref),
        f"read Unico process {PROCESS_ID}",
        ReadProcess(process=final, release=SelfieRelease(deleted=True)),
        result,
    ]


async def round_trip(converter: DataConverter, values: Sequence[Any]) -> int:
    """Encode and decode each value as its own payload; answer the bytes stored."""
    stored = 0
    for value in values:
        payloads = await converter.encode([value])
        stored += sum(p.ByteSize() for p in payloads)
        await converter.decode(payloads, [type(value)])
    return stored


async def timed(converter: DataConverter, values: Sequence[Any], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await round_trip(converter, values)
        samples.append(time.perf_counter() - started)
    return samples


async def measure(rounds: int) -> dict[str, Any]:
    values = typical_onboarding()
    encrypted = data_converter(Keyring.parse(f"bench:{new_key()}"))
    plain_bytes = await round_trip(pydantic_data_converter, values)
    sealed_bytes = await round_trip(encrypted, values)
    await timed(encrypted, values, 50)  # warm up
    plain = await timed(pydantic_data_converter, values, rounds)
    sealed = await timed(encrypted, values, rounds)
    plain_us, sealed_us = statistics.median(plain) * 1e6, statistics.median(sealed) * 1e6
    return {
        "payloads_per_onboarding": len(values),
        "rounds": rounds,
        "pydantic_only_us": round(plain_us, 1),
        "pydantic_and_aes_gcm_us": round(sealed_us, 1),
        "encryption_us_per_onboarding": round(sealed_us - plain_us, 1),
        "encryption_us_per_payload": round((sealed_us - plain_us) / len(values), 2),
        "bytes_plain": plain_bytes,
        "bytes_encrypted": sealed_bytes,
        "bytes_added_per_payload": round((sealed_bytes - plain_bytes) / len(values), 1),
    }


async def run(work: Path) -> BenchResult:
    figures = await measure(ROUNDS)
    cost = figures["encryption_us_per_onboarding"]
    lines = [
        "codec cost per onboarding (encode + decode of each payload, median of rounds):",
        *(f"  {name:32} {value}" for name, value in figures.items()),
        f"target: encryption under {TARGET_US_PER_ONBOARDING:g} us per onboarding; {cost} us",
    ]
    return BenchResult(NAME, figures, lines, target_met=cost < TARGET_US_PER_ONBOARDING)
