"""One bearer check on every gateway route: the scheme in any case, the same 401 otherwise.

The gateway runs as its process (`python -m onboarding.gateway`), over real HTTP: selfie
uploads, the codec server and a webhook on `bearer`, each with its own token.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload, Payloads

from tests.support import CODEC_TOKEN, GATEWAY_TOKEN, WEBHOOK_TOKEN, running_gateway

SELFIE = Path(__file__).parents[2] / "onboarding" / "assets" / "sample-selfie.jpg"


@dataclass(frozen=True)
class Call:
    path: str
    token: str
    realm: str
    accepted: int  # what the route answers once the token passed
    body: dict[str, Any]


CLEAR = Payload(metadata={"encoding": b"json/plain"}, data=b'"x"')
CALLS = {
    "selfies": Call("/selfies", GATEWAY_TOKEN, "selfies", 201, {"content": SELFIE.read_bytes()}),
    "codec": Call(
        "/codec/encode",
        CODEC_TOKEN,
        "codec",
        200,
        {"json": MessageToDict(Payloads(payloads=[CLEAR]))},
    ),
    # Past the token, a body without a processId is 400: nothing reaches Temporal.
    "webhook": Call("/webhooks/unico", WEBHOOK_TOKEN, "unico-webhook", 400, {"json": {}}),
}


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bearer")


@pytest.fixture(scope="module")
def gateway(state: Path) -> Iterator[str]:
    webhook = {"webhook_auth": "bearer", "webhook_bearer_token": WEBHOOK_TOKEN}
    with running_gateway(state / "gateway.log", state / "selfies", **webhook) as url:
        yield url


def post(url: str, call: Call, authorization: str | None) -> httpx.Response:
    headers = {"content-type": "image/jpeg"} if call.path == "/selfies" else {}
    if authorization is not None:
        headers["authorization"] = authorization
    return httpx.post(url + call.path, headers=headers, timeout=10, **call.body)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
@pytest.mark.parametrize("route", CALLS)
def test_the_scheme_matches_in_any_case_on_every_route(
    gateway: str, route: str, scheme: str
) -> None:
    call = CALLS[route]
    assert post(gateway, call, f"{scheme} {call.token}").status_code == call.accepted


@pytest.mark.parametrize(
    "authorization",
    [None, "", "bearer", "bearer wrong-token", "Basic {token}", "{token}", "Bearer {token}x"],
    ids=["none", "empty", "no-token", "wrong", "basic", "no-scheme", "longer"],
)
@pytest.mark.parametrize("route", CALLS)
def test_a_missing_or_wrong_token_is_refused_alike_on_every_route(
    gateway: str, route: str, authorization: str | None
) -> None:
    call = CALLS[route]
    given = None if authorization is None else authorization.format(token=call.token)
    response = post(gateway, call, given)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == f'Bearer realm="{call.realm}"'
    assert set(response.json()) == {"error"}


def test_no_token_reaches_the_log(gateway: str, state: Path) -> None:
    for call in CALLS.values():  # a right and a wrong token on each route
        post(gateway, call, f"bearer {call.token}")
        post(gateway, call, f"bearer {call.token}-wrong")
    log = (state / "gateway.log").read_text()
    assert "selfie upload refused: no valid credentials" in log
    assert [call.token for call in CALLS.values() if call.token in log] == []
