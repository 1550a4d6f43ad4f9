"""The sandbox's Auth0 stand-in over real HTTP: the client-credentials grant, enrollment
tickets, Guardian's start-flow, sms-enroll and verify-otp, every refusal in its envelope,
the test phones, the SMS limit, code and transaction lifetimes, faults, the secret's
rotation, the admin endpoints and the flags."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.app import create_app
from sandbox.config import load_config
from sandbox.guardian.errors import GuardianError
from sandbox.guardian.ratelimit import WINDOW_SECONDS, SmsLimit
from sandbox.guardian.tickets import TICKET_LIFETIME_SECONDS, TicketStore
from tests.sandbox.client import (
    AUTH0,
    AUTH0_SECRET,
    GUARDIAN,
    ISS,
    PHONE,
    configure,
    create_ticket,
    guardian_enrollments,
    last_code,
    make_config,
    management_audience,
    management_token,
    open_transaction,
    private_key,
    public_pem,
    send_sms,
    sms_inbox,
    start_flow,
    token_request,
    transaction_auth,
    verify,
)
from tests.serving import serving

TOKEN_URL = f"{AUTH0}/oauth/token"
TICKET_URL = f"{AUTH0}/api/v2/guardian/enrollments/ticket"
VERIFY_URL = f"{GUARDIAN}/api/verify-otp"
ENVELOPE = {"statusCode", "error", "message", "errorCode"}
BASE32 = re.compile(r"[A-Z2-7]+=*")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A sandbox served on a loopback port: the worker's view of the tenant and Guardian."""
    async with serving(create_app(make_config())) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


def guardian_error(response: httpx.Response, status: int, code: str) -> str:
    """Check a refusal in the Management/Guardian envelope; its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == ENVELOPE, body
    assert (body["statusCode"], body["errorCode"]) == (status, code), body
    assert body["error"] == httpx.codes.get_reason_phrase(status)
    assert isinstance(body["message"], str) and body["message"]
    return str(body["message"])


def auth_error(response: httpx.Response, status: int, error: str) -> str:
    """Check a refusal of the authentication API; its description."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"} and body["error"] == error, body
    return str(body["error_description"])


async def stats(client: httpx.AsyncClient) -> dict[str, Any]:
    return dict((await client.get("/_sandbox/stats")).json())


async def inject(client: httpx.AsyncClient, *rules: dict[str, Any]) -> None:
    response = await client.post("/_sandbox/faults", json={"rules": list(rules)})
    assert response.status_code == 200, response.text


async def enroll(client: httpx.AsyncClient, user_id: str, phone: str = PHONE) -> None:
    transaction = await open_transaction(client, user_id)
    assert (await send_sms(client, transaction, phone)).status_code == 204
    assert (await verify(client, transaction, await last_code(client, phone))).status_code == 204


# -- the whole flow -----------------------------------------------------------------------


async def test_the_whole_enrollment_flow(http: httpx.AsyncClient) -> None:
    token = await http.post(TOKEN_URL, json=token_request(http))
    assert token.status_code == 200
    assert token.headers["content-type"] == "application/json; charset=utf-8"
    grant = token.json()
    assert set(grant) == {"access_token", "token_type", "expires_in", "scope"}
    assert (grant["token_type"], grant["expires_in"]) == ("Bearer", 86400)
    assert grant["scope"] == "create:guardian_enrollment_tickets"

    ticket = await http.post(
        TICKET_URL,
        json={"user_id": "auth0|leia", "send_mail": False, "email": "leia@example.com"},
        headers={"Authorization": f"Bearer {grant['access_token']}"},
    )
    assert ticket.status_code == 200, ticket.text
    ticket_id = ticket.json()["ticket_id"]
    assert ticket.json() == {
        "ticket_id": ticket_id,
        "ticket_url": f"{str(http.base_url).rstrip('/')}/guardian/enroll?ticket={ticket_id}",
    }

    started = await start_flow(http, ticket_id)
    assert started.status_code == 201, started.text
    transaction = started.json()
    account = transaction["device_account"]
    assert set(transaction) == {
        "device_account",
        "enrollment_tx_id",
        "transaction_token",
        "expires_at",
    }
    assert account["id"].startswith("dev_") and account["status"] == "confirmation_pending"
    assert BASE32.fullmatch(account["otp_secret"])
    assert re.fullmatch(r"[A-Z0-9]{24}", account["recovery_code"])
    assert account["phone_number"] is None
    assert ISO.fullmatch(transaction["expires_at"])
    assert transaction["enrollment_tx_id"] and transaction["transaction_token"]

    sent = await send_sms(http, transaction)
    assert (sent.status_code, sent.content) == (204, b"")
    [sms] = await sms_inbox(http)
    assert sms["phone"] == PHONE and re.fullmatch(r"\d{6}", sms["code"])
    assert ISO.fullmatch(sms["sent_at"])

    confirmed = await verify(http, transaction, sms["code"])
    assert (confirmed.status_code, confirmed.content) == (204, b"")
    [enrollment] = await guardian_enrollments(http)
    assert (enrollment["user_id"], enrollment["phone"]) == ("auth0|leia", PHONE)
    assert ISO.fullmatch(enrollment["enrolled_at"])

    again = await start_flow(http, await create_ticket(http, "auth0|leia"))
    assert again.status_code == 201
    assert again.json() == {"device_account": {"id": account["id"], "status": "confirmed"}}

    counts = await stats(http)
    assert (counts["sms_sent"], counts["enrollments_confirmed"]) == (1, 1)
    assert (counts["auth0_token_requests"], counts["ticket_requests"]) == (2, 2)
    assert (counts["start_flow_requests"], counts["sms_enroll_requests"]) == (2, 1)
    assert counts["verify_otp_requests"] == 1
    assert counts["by_status"] == {"200": 4, "201": 2, "204": 2}


async def test_a_form_body_gets_a_token_too(http: httpx.AsyncClient) -> None:
    response = await http.post(TOKEN_URL, data=token_request(http))
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"


async def test_the_audience_is_the_tenant_as_the_client_named_it(http: httpx.AsyncClient) -> None:
    named = {"Host": "tenant.example"}
    audience = "http://tenant.example/auth0/api/v2/"
    answer = await http.post(TOKEN_URL, json=token_request(http, audience=audience), headers=named)
    assert answer.status_code == 200, answer.text
    # The loopback address is another domain for a call that named tenant.example.
    other = await http.post(TOKEN_URL, json=token_request(http), headers=named)
    message = auth_error(other, 403, "access_denied")
    assert message == f"Service not enabled within domain: {management_audience(http)}"
    ticket = await http.post(
        TICKET_URL,
        json={"user_id": "auth0|han"},
        headers={**named, "Authorization": f"Bearer {answer.json()['access_token']}"},
    )
    assert ticket.json()["ticket_url"].startswith("http://tenant.example/guardian/enroll?ticket=")


# -- the token endpoint's refusals ---------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": None}, 400, "invalid_request"),
        ({"client_id": "someone-else"}, 401, "access_denied"),
        ({"client_secret": "wrong"}, 401, "access_denied"),
        ({"client_secret": None}, 401, "access_denied"),
        ({"client_secret": 7}, 401, "access_denied"),
        ({"audience": "http://127.0.0.1/api/v2/"}, 403, "access_denied"),
        ({"audience": None}, 403, "access_denied"),
    ],
)
async def test_token_refusals(http, changes, status, error) -> None:
    response = await http.post(TOKEN_URL, json=token_request(http, **changes))
    description = auth_error(response, status, error)
    if status == 401:
        assert description == "Unauthorized"
    if status == 403:
        assert description.startswith("Service not enabled within domain: ")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"not json", "application/json"), (b"[1]", "application/json"), (b"x=1", "text/plain")],
)
async def test_a_token_body_that_is_neither_json_nor_a_form(http, content, content_type) -> None:
    response = await http.post(TOKEN_URL, content=content, headers={"content-type": content_type})
    auth_error(response, 400, "invalid_request")


async def test_token_lifetime_and_scopes_come_from_the_runtime_settings(
    http: httpx.AsyncClient,
) -> None:
    before = await management_token(http)
    await configure(http, auth0_token_lifetime_seconds=0, auth0_scopes="read:users  read:logs")
    grant = (await http.post(TOKEN_URL, json=token_request(http))).json()
    assert (grant["expires_in"], grant["scope"]) == (0, "read:users read:logs")
    expired = await http.post(
        TICKET_URL,
        json={"user_id": "auth0|leia"},
        headers={"Authorization": f"Bearer {grant['access_token']}"},
    )
    guardian_error(expired, 401, "invalid_token")
    await configure(http, auth0_token_lifetime_seconds=60)
    narrow = await management_token(http)
    refused = await http.post(
        TICKET_URL, json={"user_id": "auth0|leia"}, headers={"Authorization": f"Bearer {narrow}"}
    )
    message = guardian_error(refused, 403, "insufficient_scope")
    assert "create:guardian_enrollment_tickets" in message
    assert await create_ticket(http, token=before), "a token keeps the scopes it was issued with"


async def test_a_rotated_secret_refuses_the_old_one(http: httpx.AsyncClient) -> None:
    before = await management_token(http)
    settings = await configure(http, auth0_client_secret="rotated-secret")
    assert settings["auth0_client_secret_changed"] is True
    assert "rotated-secret" not in str(settings) and AUTH0_SECRET not in str(settings)
    old = await http.post(TOKEN_URL, json=token_request(http))
    assert auth_error(old, 401, "access_denied") == "Unauthorized"
    assert await management_token(http, client_secret="rotated-secret")
    assert await create_ticket(http, token=before), "tokens issued before stay valid"
    await http.post("/_sandbox/reset")
    after = (await http.get("/_sandbox/config")).json()
    assert after["auth0_client_secret_changed"] is True, "reset keeps the settings"


# -- the ticket endpoint's refusals --------------------------------------------------------


@pytest.mark.parametrize(
    "authorization", [None, "", "Basic abc", "Bearer", "Bearer two words", "token abc"]
)
async def test_a_ticket_without_a_bearer_header(http, authorization) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await http.post(TICKET_URL, json={"user_id": "auth0|leia"}, headers=headers)
    guardian_error(response, 401, "invalid_bearer_format")


async def test_a_ticket_with_an_unknown_token(http: httpx.AsyncClient) -> None:
    response = await http.post(
        TICKET_URL, json={"user_id": "auth0|leia"}, headers={"Authorization": "Bearer nope"}
    )
    guardian_error(response, 401, "invalid_token")


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b"{}",
        b'{"user_id": ""}',
        b'{"user_id": 7}',
        b'{"user_id": "auth0|leia", "send_mail": "yes"}',
        b'{"user_id": "auth0|leia", "email": 1}',
        b'{"user_id": "auth0|leia", "factor": false}',
    ],
)
async def test_a_ticket_body_must_name_the_user(http, content) -> None:
    headers = {
        "Authorization": f"Bearer {await management_token(http)}",
        "content-type": "application/json",
    }
    response = await http.post(TICKET_URL, content=content, headers=headers)
    guardian_error(response, 400, "invalid_body")


def test_a_ticket_lasts_five_days() -> None:
    now = [1000.0]
    tickets = TicketStore(clock=lambda: now[0])
    ticket_id = tickets.issue("auth0|leia")
    now[0] += TICKET_LIFETIME_SECONDS - 1
    assert tickets.usable(ticket_id) is not None
    now[0] += 1
    assert tickets.usable(ticket_id) is None
    assert TICKET_LIFETIME_SECONDS == 5 * 24 * 3600


# -- start-flow ----------------------------------------------------------------------------


async def test_a_ticket_is_used_once(http: httpx.AsyncClient) -> None:
    ticket_id = await create_ticket(http)
    assert (await start_flow(http, ticket_id)).status_code == 201
    guardian_error(await start_flow(http, ticket_id), 404, "enrollment_transaction_not_found")
    guardian_error(await start_flow(http, "unknown"), 404, "enrollment_transaction_not_found")


@pytest.mark.parametrize(
    "authorization", ["", "Bearer abc", "Ticket abc", "Ticket id=abc", 'Ticket id=""']
)
async def test_start_flow_needs_a_ticket_header(http, authorization) -> None:
    ticket_id = await create_ticket(http)
    response = await http.post(
        f"{GUARDIAN}/api/start-flow",
        json={"state_transport": "polling"},
        headers={"Authorization": authorization.replace("abc", ticket_id)},
    )
    guardian_error(response, 401, "invalid_bearer_format")


@pytest.mark.parametrize("body", [[], {}, {"state_transport": "carrier-pigeon"}])
async def test_start_flow_refuses_a_bad_body_and_keeps_the_ticket(http, body) -> None:
    ticket_id = await create_ticket(http)
    guardian_error(await start_flow(http, ticket_id, body), 400, "invalid_body")
    assert (await start_flow(http, ticket_id)).status_code == 201


async def test_with_sms_disabled_start_flow_and_sms_enroll_are_refused(
    http: httpx.AsyncClient,
) -> None:
    ticket_id = await create_ticket(http)
    transaction = await open_transaction(http)
    await configure(http, guardian_sms_enabled=False)
    guardian_error(await start_flow(http, ticket_id), 403, "feature_disabled")
    guardian_error(await send_sms(http, transaction), 403, "feature_disabled")
    assert await sms_inbox(http) == []
    await configure(http, guardian_sms_enabled=True)
    assert (await start_flow(http, ticket_id)).status_code == 201, "the ticket was not spent"
    assert (await send_sms(http, transaction)).status_code == 204


async def test_each_transaction_has_its_own_secrets(http: httpx.AsyncClient) -> None:
    first, second = await open_transaction(http), await open_transaction(http)
    for name in ("enrollment_tx_id", "transaction_token"):
        assert first[name] != second[name]
    for name in ("id", "otp_secret", "recovery_code"):
        assert first["device_account"][name] != second["device_account"][name]


# -- sms-enroll ----------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", ["", "Basic abc", 'Ticket id="abc"', "Bearer"])
async def test_sms_enroll_needs_a_bearer_header(http, authorization) -> None:
    transaction = await open_transaction(http)
    device = transaction["device_account"]["id"]
    response = await http.post(
        f"{GUARDIAN}/api/device-accounts/{device}/sms-enroll",
        json={"phone_number": PHONE},
        headers={"Authorization": authorization},
    )
    guardian_error(response, 401, "invalid_bearer_format")


async def test_sms_enroll_needs_the_transactions_token_and_device(
    http: httpx.AsyncClient,
) -> None:
    transaction = await open_transaction(http)
    unknown = {**transaction, "transaction_token": "not-a-transaction"}
    guardian_error(await send_sms(http, unknown), 404, "enrollment_transaction_not_found")
    other_device = {**transaction, "device_account": {"id": "dev_someone_else"}}
    guardian_error(await send_sms(http, other_device), 404, "enrollment_transaction_not_found")
    assert await sms_inbox(http) == []


@pytest.mark.parametrize(
    "phone",
    [None, "5511987654321", "+55 11 98765 4321", "+1234567", "+1234567890123456", "+55abc", 55],
)
async def test_a_phone_must_be_e164(http, phone) -> None:
    transaction = await open_transaction(http)
    device = transaction["device_account"]["id"]
    response = await http.post(
        f"{GUARDIAN}/api/device-accounts/{device}/sms-enroll",
        json={} if phone is None else {"phone_number": phone},
        headers=transaction_auth(transaction),
    )
    guardian_error(response, 400, "invalid_phone_number")


async def test_an_sms_enroll_body_that_is_no_json_object(http: httpx.AsyncClient) -> None:
    transaction = await open_transaction(http)
    device = transaction["device_account"]["id"]
    response = await http.post(
        f"{GUARDIAN}/api/device-accounts/{device}/sms-enroll",
        content=b"+5511987654321",
        headers=transaction_auth(transaction),
    )
    guardian_error(response, 400, "invalid_body")


async def test_the_shortest_and_longest_phones_are_taken(http: httpx.AsyncClient) -> None:
    transaction = await open_transaction(http)
    for phone in ("+12345678", "+123456789012345"):
        assert (await send_sms(http, transaction, phone)).status_code == 204
    assert [sms["phone"] for sms in await sms_inbox(http)] == ["+12345678", "+123456789012345"]


# -- the test phones -----------------------------------------------------------------------


async def test_a_phone_ending_0001_fails_once_then_delivers(http: httpx.AsyncClient) -> None:
    transaction = await open_transaction(http)
    flaky, other = "+5511900000001", "+5521900000001"
    guardian_error(await send_sms(http, transaction, flaky), 500, "error_sending_sms")
    assert await sms_inbox(http) == []
    sent = await send_sms(http, transaction, flaky)
    assert sent.status_code == 204 and sent.headers["x-ratelimit-remaining"] == "9"
    assert len(await sms_inbox(http, flaky)) == 1
    assert (await send_sms(http, transaction, flaky)).status_code == 204, "once per phone"
    guardian_error(await send_sms(http, transaction, other), 500, "error_sending_sms")
    code = await last_code(http, flaky)
    assert (await verify(http, transaction, code)).status_code == 204


async def test_a_phone_ending_0002_is_refused(http: httpx.AsyncClient) -> None:
    transaction = await open_transaction(http)
    for _ in range(2):
        refused = await send_sms(http, transaction, "+5511900000002")
        guardian_error(refused, 400, "invalid_phone_number")
    assert await sms_inbox(http) == []


async def test_a_phone_ending_0003_is_someone_elses(http: httpx.AsyncClient) -> None:
    transaction = await open_transaction(http)
    conflict = await send_sms(http, transaction, "+5511900000003")
    guardian_error(conflict, 409, "enrollment_conflict")
    assert await sms_inbox(http) == []
    assert (await send_sms(http, transaction)).status_code == 204, "another phone will do"


# -- the SMS limit -------------------------------------------------------------------------


async def test_the_sms_limit_per_user_with_its_headers(http: httpx.AsyncClient) -> None:
    await configure(http, guardian_sms_per_hour=3)
    first = await open_transaction(http, "auth0|leia")
    started = time.time()
    answers = [await send_sms(http, first) for _ in range(3)]
    assert [a.status_code for a in answers] == [204, 204, 204]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
    assert {a.headers["x-ratelimit-limit"] for a in answers} == {"3"}
    resets = {int(a.headers["x-ratelimit-reset"]) for a in answers}
    assert len(resets) == 1, "one slot frees when the first SMS leaves the hour"
    [reset] = resets
    assert math.floor(started) + WINDOW_SECONDS <= reset <= math.ceil(time.time()) + WINDOW_SECONDS

    second = await open_transaction(http, "auth0|leia")  # the limit is the user's
    limited = await send_sms(http, second)
    guardian_error(limited, 429, "too_many_sms")
    assert limited.headers["x-ratelimit-limit"] == "3"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert int(limited.headers["x-ratelimit-reset"]) == reset
    assert 3590 <= int(limited.headers["retry-after"]) <= WINDOW_SECONDS
    assert len(await sms_inbox(http)) == 3

    code = await last_code(http)
    assert (await verify(http, first, code)).status_code == 204, "the last code still works"
    other = await open_transaction(http, "auth0|han")
    assert (await send_sms(http, other, "+5511911112222")).status_code == 204
    await configure(http, guardian_sms_per_hour=4)
    assert (await send_sms(http, second)).status_code == 409, "leia is enrolled by now"
    counts = await stats(http)
    assert (counts["sms_enroll_requests"], counts["sms_sent"]) == (6, 4)
    assert counts["by_code"] == {"too_many_sms": 1, "enrollment_conflict": 1}


def test_a_slot_frees_an_hour_after_its_sms() -> None:
    now = [10_000.25]
    limit = SmsLimit(clock=lambda: now[0])
    assert limit.spend("u", 2).headers() == {
        "x-ratelimit-limit": "2",
        "x-ratelimit-remaining": "1",
        "x-ratelimit-reset": str(math.ceil(10_000.25 + WINDOW_SECONDS)),
    }
    now[0] += 600
    assert limit.spend("u", 2).remaining == 0
    with pytest.raises(GuardianError) as refused:
        limit.admit("u", 2)
    assert refused.value.code == "too_many_sms"
    assert refused.value.headers["Retry-After"] == str(WINDOW_SECONDS - 600)
    limit.admit("v", 2)  # another user has their own hour
    now[0] += WINDOW_SECONDS - 600  # the first SMS leaves the window
    limit.admit("u", 2)
    quota = limit.spend("u", 2)
    assert (quota.remaining, quota.reset) == (0, math.ceil(10_600.25 + WINDOW_SECONDS))


async def test_a_limit_of_zero_sends_nothing(http: httpx.AsyncClient) -> None:
    await configure(http, guardian_sms_per_hour=0)
    limited = await send_sms(http, await open_transaction(http))
    guardian_error(limited, 429, "too_many_sms")
    assert limited.headers["retry-after"] == str(WINDOW_SECONDS)


# -- codes ---------------------------------------------------------------------------------


async def test_a_newer_code_replaces_the_older(http: httpx.AsyncClient) -> None:
    transaction = await open_transaction(http)
    await send_sms(http, transaction)
    older = await last_code(http)
    await send_sms(http, transaction)
    newer = await last_code(http)
    if older != newer:  # one chance in a million that they are the same
        guardian_error(await verify(http, transaction, older), 401, "invalid_otp")
    assert (await verify(http, transaction, newer)).status_code == 204


async def test_a_code_is_used_once(http: httpx.AsyncClient) -> None:
    transaction = await open_transaction(http)
    await send_sms(http, transaction)
    code = await last_code(http)
    assert (await verify(http, transaction, code)).status_code == 204
    again = await verify(http, transaction, code)
    guardian_error(again, 404, "enrollment_transaction_not_found")
    assert len(await guardian_enrollments(http)) == 1


async def test_a_code_expires(http: httpx.AsyncClient) -> None:
    await configure(http, guardian_code_ttl_seconds=0.3)
    transaction = await open_transaction(http)
    await send_sms(http, transaction)
    code = await last_code(http)
    await asyncio.sleep(0.4)
    message = guardian_error(await verify(http, transaction, code), 401, "invalid_otp")
    assert "expired" in message
    await configure(http, guardian_code_ttl_seconds=300)
    await send_sms(http, transaction)  # a fresh code, with the lifetime set when it is sent
    assert (await verify(http, transaction, await last_code(http))).status_code == 204


async def test_wrong_codes_and_no_code(http: httpx.AsyncClient) -> None:
    transaction = await open_transaction(http)
    nothing_sent = guardian_error(await verify(http, transaction, "123456"), 401, "invalid_otp")
    assert "no code" in nothing_sent.lower()
    await send_sms(http, transaction)
    code = await last_code(http)
    wrong = "000000" if code != "000000" else "111111"
    for attempt in (wrong, "12345", "abcdef", ""):
        guardian_error(await verify(http, transaction, attempt), 401, "invalid_otp")
    assert (await verify(http, transaction, code)).status_code == 204, "a wrong try spends nothing"


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'{"code": "123456"}',
        b'{"type": "otp", "code": "123456"}',
        b'{"type": "manual_input"}',
        b'{"type": "manual_input", "code": 123456}',
    ],
)
async def test_verify_refuses_a_bad_body(http, content) -> None:
    transaction = await open_transaction(http)
    headers = {**transaction_auth(transaction), "content-type": "application/json"}
    response = await http.post(VERIFY_URL, content=content, headers=headers)
    guardian_error(response, 400, "invalid_body")


async def test_verify_refuses_an_unknown_transaction_or_a_bad_header(
    http: httpx.AsyncClient,
) -> None:
    body = {"type": "manual_input", "code": "123456"}
    unknown = await http.post(VERIFY_URL, json=body, headers={"Authorization": "Bearer nope"})
    guardian_error(unknown, 404, "enrollment_transaction_not_found")
    malformed = await http.post(VERIFY_URL, json=body, headers={"Authorization": "nope"})
    guardian_error(malformed, 401, "invalid_bearer_format")


# -- transactions --------------------------------------------------------------------------


async def test_a_transaction_expires(http: httpx.AsyncClient) -> None:
    await configure(http, guardian_transaction_ttl_seconds=0.3)
    transaction = await open_transaction(http)
    assert (await send_sms(http, transaction)).status_code == 204
    code = await last_code(http)
    await asyncio.sleep(0.4)
    gone = await verify(http, transaction, code)
    guardian_error(gone, 404, "enrollment_transaction_not_found")
    guardian_error(await send_sms(http, transaction), 404, "enrollment_transaction_not_found")
    assert await guardian_enrollments(http) == []
    await configure(http, guardian_transaction_ttl_seconds=0)
    at_once = await open_transaction(http)
    guardian_error(await send_sms(http, at_once), 404, "enrollment_transaction_not_found")


async def test_expires_at_is_the_transactions_end(http: httpx.AsyncClient) -> None:
    await configure(http, guardian_transaction_ttl_seconds=120)
    before = time.time()
    transaction = await open_transaction(http)
    ends = transaction["expires_at"]
    moment = datetime.fromisoformat(ends.replace("Z", "+00:00")).timestamp()
    assert before + 120 - 1 <= moment <= time.time() + 120 + 1


async def test_a_user_enrolled_meanwhile_is_a_conflict(http: httpx.AsyncClient) -> None:
    first = await open_transaction(http, "auth0|leia")
    second = await open_transaction(http, "auth0|leia")
    await send_sms(http, second, "+5511911112222")
    second_code = await last_code(http, "+5511911112222")
    await send_sms(http, first)
    assert (await verify(http, first, await last_code(http))).status_code == 204
    guardian_error(await verify(http, second, second_code), 409, "enrollment_conflict")
    guardian_error(await verify(http, second, second_code), 404, "enrollment_transaction_not_found")
    third = await open_transaction(http, "auth0|han")
    await send_sms(http, third)
    await enroll(http, "auth0|luke", "+5511933334444")
    users = [e["user_id"] for e in await guardian_enrollments(http)]
    assert users == ["auth0|leia", "auth0|luke"], "never two for one user"


async def test_sms_enroll_for_a_user_enrolled_meanwhile_is_a_conflict(
    http: httpx.AsyncClient,
) -> None:
    pending = await open_transaction(http)
    await enroll(http, "auth0|leia")
    guardian_error(await send_sms(http, pending), 409, "enrollment_conflict")


# -- faults --------------------------------------------------------------------------------


async def test_auth0_token_rules_speak_the_authentication_envelope(
    http: httpx.AsyncClient,
) -> None:
    await inject(
        http,
        {"endpoint": "auth0-token", "code": "access_denied"},
        {"endpoint": "auth0-token", "code": "too_many_requests", "retry_after": 2},
        {"endpoint": "auth0-token", "code": "server_error", "status": 503},
        {"endpoint": "auth0-token", "status": 502},
    )
    auth_error(await http.post(TOKEN_URL, json=token_request(http)), 401, "access_denied")
    limited = await http.post(TOKEN_URL, json=token_request(http))
    auth_error(limited, 429, "too_many_requests")
    assert limited.headers["retry-after"] == "2"
    auth_error(await http.post(TOKEN_URL, json=token_request(http)), 503, "server_error")
    auth_error(await http.post(TOKEN_URL, json=token_request(http)), 502, "server_error")
    assert (await http.post(TOKEN_URL, json=token_request(http))).status_code == 200
    counts = await stats(http)
    assert counts["by_code"] == {"access_denied": 1, "too_many_requests": 1, "server_error": 1}
    faults = (await http.get("/_sandbox/faults")).json()
    assert faults == {"rules": [], "fired": {"auth0-token": 4}}


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("invalid_otp", 401),
        ("invalid_token", 401),
        ("insufficient_scope", 403),
        ("feature_disabled", 403),
        ("feature_disabled_by_admin", 403),
        ("enrollment_conflict", 409),
        ("error_sending_sms", 500),
        ("invalid_phone_number", 400),
        ("enrollment_transaction_not_found", 404),
        ("tenant_not_found", 404),
        ("invalid_body", 400),
        ("something_new", 400),
    ],
)
async def test_guardian_rules_answer_a_code_with_its_status(http, code, status) -> None:
    await inject(http, {"endpoint": "verify-otp", "code": code})
    transaction = await open_transaction(http)
    answer = await verify(http, transaction, "123456")
    assert guardian_error(answer, status, code) == "Injected fault"


async def test_every_guardian_endpoint_takes_rules(http: httpx.AsyncClient) -> None:
    token = await management_token(http)
    ticket_id = await create_ticket(http, token=token)
    await inject(
        http,
        {"endpoint": "ticket", "code": "insufficient_scope"},
        {"endpoint": "start-flow", "code": "feature_disabled", "status": 503},
        {"endpoint": "sms-enroll", "code": "error_sending_sms"},
    )
    ticket = await http.post(
        TICKET_URL, json={"user_id": "auth0|leia"}, headers={"Authorization": f"Bearer {token}"}
    )
    guardian_error(ticket, 403, "insufficient_scope")
    guardian_error(await start_flow(http, ticket_id), 503, "feature_disabled")
    transaction = (await start_flow(http, ticket_id)).json()  # an injected error spends nothing
    guardian_error(await send_sms(http, transaction), 500, "error_sending_sms")
    assert await sms_inbox(http) == []
    assert (await send_sms(http, transaction)).status_code == 204
    fired = (await http.get("/_sandbox/faults")).json()["fired"]
    assert fired == {"ticket": 1, "start-flow": 1, "sms-enroll": 1}


async def test_an_injected_limit_carries_the_rate_limit_headers(http: httpx.AsyncClient) -> None:
    await configure(http, guardian_sms_per_hour=5)
    await inject(
        http,
        {"endpoint": "sms-enroll", "code": "too_many_sms"},
        {"endpoint": "sms-enroll", "code": "too_many_sms_per_tenant", "retry_after": 7},
    )
    transaction = await open_transaction(http)
    before = time.time()
    first = await send_sms(http, transaction)
    guardian_error(first, 429, "too_many_sms")
    assert first.headers["x-ratelimit-limit"] == "5"
    assert first.headers["x-ratelimit-remaining"] == "0"
    assert first.headers["retry-after"] == "60"
    assert math.floor(before) + 60 <= int(first.headers["x-ratelimit-reset"]) <= time.time() + 61
    second = await send_sms(http, transaction)
    guardian_error(second, 429, "too_many_sms_per_tenant")
    assert second.headers["retry-after"] == "7"
    sent = await send_sms(http, transaction)
    assert sent.status_code == 204 and sent.headers["x-ratelimit-remaining"] == "4"


async def test_a_status_without_a_code_answers_the_envelope_without_one(
    http: httpx.AsyncClient,
) -> None:
    await inject(http, {"endpoint": "start-flow", "status": 503, "retry_after": 1})
    answer = await start_flow(http, await create_ticket(http))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert answer.json() == {
        "statusCode": 503,
        "error": "Service Unavailable",
        "message": "Service Unavailable",
    }


async def test_a_dropped_confirm_still_confirms(http: httpx.AsyncClient) -> None:
    transaction = await open_transaction(http)
    await send_sms(http, transaction)
    code = await last_code(http)
    await inject(http, {"endpoint": "verify-otp", "drop_connection": True})
    with pytest.raises(httpx.RemoteProtocolError):
        await verify(http, transaction, code)
    [enrollment] = await guardian_enrollments(http)
    assert enrollment["user_id"] == "auth0|leia"
    counts = await stats(http)
    assert (counts["enrollments_confirmed"], counts["by_status"]["dropped"]) == (1, 1)
    # The retry learns that the first try ended the transaction; start-flow that it took.
    retry = await verify(http, transaction, code)
    guardian_error(retry, 404, "enrollment_transaction_not_found")
    again = await start_flow(http, await create_ticket(http))
    assert again.json()["device_account"]["status"] == "confirmed"
    assert len(await guardian_enrollments(http)) == 1


async def test_a_slow_confirm_answers_after_the_enrollment_exists(
    http: httpx.AsyncClient,
) -> None:
    transaction = await open_transaction(http)
    await send_sms(http, transaction)
    code = await last_code(http)
    await inject(http, {"endpoint": "verify-otp", "delay_seconds": 1.0})
    call = asyncio.create_task(verify(http, transaction, code))
    while not await guardian_enrollments(http):
        await asyncio.sleep(0.01)
    assert not call.done(), "the enrollment exists while its answer is held back"
    assert (await call).status_code == 204


@pytest.mark.parametrize(
    "rule",
    [
        {"endpoint": "verify-otp", "code": 401},
        {"endpoint": "sms-enroll", "code": "Invalid OTP"},
        {"endpoint": "auth0-token", "code": "1.2.18"},
        {"endpoint": "ticket", "code": ""},
        {"endpoint": "guardian"},
        {"endpoint": "verify-otp", "drop_connection": True, "code": "invalid_otp"},
    ],
)
async def test_bad_auth0_rules_are_refused(http, rule) -> None:
    response = await http.post("/_sandbox/faults", json=rule)
    assert response.status_code == 400 and "error" in response.json()
    assert (await http.get("/_sandbox/faults")).json()["rules"] == []


async def test_a_bug_of_ours_answers_a_500_in_the_envelope() -> None:
    app = create_app(make_config())

    def broken(*args: Any) -> None:
        raise RuntimeError("bug")

    app.state.sandbox.guardian.verify_otp = broken
    app.state.sandbox.management.issue_token = broken
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        answer = await http.post(VERIFY_URL, json={}, headers={"Authorization": "Bearer x"})
        guardian_error(answer, 500, "internal_error")
        token = await http.post(TOKEN_URL, json={})
        auth_error(token, 500, "server_error")


# -- admin ---------------------------------------------------------------------------------


async def test_the_inbox_oldest_first_and_by_phone(http: httpx.AsyncClient) -> None:
    leia, han = (
        await open_transaction(http, "auth0|leia"),
        await open_transaction(http, "auth0|han"),
    )
    await send_sms(http, leia, "+5511911111111")
    await send_sms(http, han, "+5511922222222")
    await send_sms(http, leia, "+5511911111111")
    phones = [sms["phone"] for sms in await sms_inbox(http)]
    assert phones == ["+5511911111111", "+5511922222222", "+5511911111111"]
    mine = await sms_inbox(http, "+5511911111111")
    assert len(mine) == 2 and mine[0]["sent_at"] <= mine[1]["sent_at"]
    assert set(mine[0]) == {"phone", "code", "sent_at"}
    assert await sms_inbox(http, "+5511900000000") == []


async def test_the_transactions_with_their_state(http: httpx.AsyncClient) -> None:
    ticket_id = await create_ticket(http, "auth0|leia")
    won = (await start_flow(http, ticket_id)).json()
    lost = await open_transaction(http, "auth0|leia")
    pending = await open_transaction(http, "auth0|han")
    await send_sms(http, won)
    await send_sms(http, lost, "+5511911112222")
    assert (await verify(http, won, await last_code(http))).status_code == 204
    await verify(http, lost, await last_code(http, "+5511911112222"))
    await configure(http, guardian_transaction_ttl_seconds=0)
    expired = await open_transaction(http, "auth0|luke")
    transactions = (await http.get("/_sandbox/guardian/transactions")).json()["transactions"]
    assert [(t["user_id"], t["state"]) for t in transactions] == [
        ("auth0|leia", "confirmed"),
        ("auth0|leia", "conflict"),
        ("auth0|han", "pending"),
        ("auth0|luke", "expired"),
    ]
    assert transactions[0] == {
        "user_id": "auth0|leia",
        "ticket_id": ticket_id,
        "transaction_token": won["transaction_token"],
        "device_id": won["device_account"]["id"],
        "state": "confirmed",
    }
    shown = str(transactions)
    for secret in (won["device_account"]["otp_secret"], won["device_account"]["recovery_code"]):
        assert secret not in shown
    assert [t["transaction_token"] for t in transactions[2:]] == [
        pending["transaction_token"],
        expired["transaction_token"],
    ]


async def test_reset_forgets_guardian_state(http: httpx.AsyncClient) -> None:
    await configure(http, guardian_sms_per_hour=1)
    token = await management_token(http)
    ticket_id = await create_ticket(http, token=token)
    await enroll(http, "auth0|leia")
    pending = await open_transaction(http, "auth0|han")
    await send_sms(http, pending, "+5511900000001")  # its one failure is spent
    await http.post("/_sandbox/reset")
    assert await guardian_enrollments(http) == []
    assert await sms_inbox(http) == []
    assert (await http.get("/_sandbox/guardian/transactions")).json() == {"transactions": []}
    guardian_error(await start_flow(http, ticket_id), 404, "enrollment_transaction_not_found")
    guardian_error(await send_sms(http, pending), 404, "enrollment_transaction_not_found")
    stale = await http.post(
        TICKET_URL, json={"user_id": "auth0|leia"}, headers={"Authorization": f"Bearer {token}"}
    )
    guardian_error(stale, 401, "invalid_token")
    fresh = await open_transaction(http, "auth0|leia")  # no longer enrolled, limit refilled
    assert (await send_sms(http, fresh)).status_code == 204
    flaky = await send_sms(http, await open_transaction(http, "auth0|han"), "+5511900000001")
    guardian_error(flaky, 500, "error_sending_sms")
    assert (await stats(http))["start_flow_requests"] == 3


async def test_config_shows_and_changes_the_auth0_settings(http: httpx.AsyncClient) -> None:
    settings = (await http.get("/_sandbox/config")).json()
    assert {
        name: settings[name] for name in settings if name.startswith(("auth0", "guardian"))
    } == {
        "auth0_client_secret_changed": False,
        "auth0_scopes": "create:guardian_enrollment_tickets",
        "auth0_token_lifetime_seconds": 86400,
        "guardian_sms_enabled": True,
        "guardian_sms_per_hour": 10,
        "guardian_code_ttl_seconds": 300.0,
        "guardian_transaction_ttl_seconds": 300.0,
    }
    changed = await configure(
        http, guardian_code_ttl_seconds=30, guardian_transaction_ttl_seconds=1.5
    )
    assert (changed["guardian_code_ttl_seconds"], changed["guardian_transaction_ttl_seconds"]) == (
        30.0,
        1.5,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"auth0_client_secret": ""},
        {"auth0_client_secret": 5},
        {"auth0_scopes": ["create:guardian_enrollment_tickets"]},
        {"auth0_token_lifetime_seconds": 1.5},
        {"auth0_token_lifetime_seconds": -1},
        {"guardian_sms_enabled": "yes"},
        {"guardian_sms_enabled": 1},
        {"guardian_sms_per_hour": -1},
        {"guardian_sms_per_hour": True},
        {"guardian_code_ttl_seconds": "1"},
        {"guardian_code_ttl_seconds": -1},
        {"guardian_transaction_ttl_seconds": None},
        {"guardian_sms_per_hour": 2, "guardian_code_ttl_seconds": -1},
    ],
)
async def test_config_refuses_bad_auth0_settings(http, body) -> None:
    response = await http.post("/_sandbox/config", json=body)
    assert response.status_code == 400 and "error" in response.json()
    settings = (await http.get("/_sandbox/config")).json()
    assert (settings["guardian_sms_per_hour"], settings["auth0_client_secret_changed"]) == (
        10,
        False,
    )


async def test_log_lines_hold_no_phone_code_or_token(http, caplog) -> None:
    caplog.set_level(logging.INFO, logger="sandbox")
    token = await management_token(http)
    ticket_id = await create_ticket(http, "auth0|leia", token)
    transaction = (await start_flow(http, ticket_id)).json()
    await send_sms(http, transaction)
    code = await last_code(http)
    await verify(http, transaction, "000000" if code != "000000" else "111111")
    await verify(http, transaction, code)
    lines = [r.getMessage() for r in caplog.records if r.name == "sandbox"]
    routes = [line.split(" ")[1] for line in lines if not line.split(" ")[1].startswith("/_")]
    assert routes == [
        "/auth0/oauth/token",
        "/auth0/api/v2/guardian/enrollments/ticket",
        "/guardian/api/start-flow",
        "/guardian/api/device-accounts/{id}/sms-enroll",
        "/guardian/api/verify-otp",
        "/guardian/api/verify-otp",
    ]
    assert any("401 code=invalid_otp" in line for line in lines)
    account = transaction["device_account"]
    secrets = (PHONE, "5511987654321", code, token, ticket_id, transaction["transaction_token"])
    for secret in (*secrets, account["id"], account["otp_secret"], account["recovery_code"]):
        assert all(secret not in line for line in lines), secret


# -- flags ---------------------------------------------------------------------------------


def _key(tmp_path: Path) -> list[str]:
    path = tmp_path / "public.pem"
    path.write_bytes(public_pem(private_key()))
    return ["--public-key", str(path), "--service-account", ISS, "--api-key", "k"]


def test_auth0_flags_and_environment(tmp_path: Path) -> None:
    defaults = load_config(_key(tmp_path), {})
    assert (defaults.auth0_client_id, defaults.auth0_client_secret) == (
        "sandbox-auth0-client",
        "sandbox-auth0-secret",
    )
    env = {"SANDBOX_AUTH0_CLIENT_ID": "env-id", "SANDBOX_AUTH0_CLIENT_SECRET": "env-secret"}
    from_env = load_config(_key(tmp_path), env)
    assert (from_env.auth0_client_id, from_env.auth0_client_secret) == ("env-id", "env-secret")
    flags = [*_key(tmp_path), "--auth0-client-id", "flag-id", "--auth0-client-secret", "flag-s"]
    from_flags = load_config(flags, env)
    assert (from_flags.auth0_client_id, from_flags.auth0_client_secret) == ("flag-id", "flag-s")


async def test_the_configured_auth0_client_is_the_one_asked_for() -> None:
    config = make_config(auth0_client_id="tenant-app", auth0_client_secret="s3")
    async with serving(create_app(config)) as url, httpx.AsyncClient(base_url=url) as http:
        default = await http.post(TOKEN_URL, json=token_request(http))
        auth_error(default, 401, "access_denied")
        assert await management_token(http, client_id="tenant-app", client_secret="s3")
