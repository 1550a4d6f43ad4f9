"""The sandbox's Identity Cloud entity API: create, read, find with its replication lag, every
refusal (HTTP 200 with `stat: error`), credentials and their rotation, faults, rate limit."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.app import create_app
from sandbox.config import ConfigError, load_config
from sandbox.identity_cloud.filters import Clause, parse_filter
from tests.sandbox.client import (
    IC_CLIENT_ID,
    IC_SECRET,
    IDENTITY_CLOUD,
    ISS,
    SEEDED_CPF,
    SEEDED_EMAIL,
    basic,
    bearer,
    client_for,
    create_body,
    create_user,
    entity_call,
    make_config,
    private_key,
    public_pem,
    records,
    user,
)
from tests.serving import serving

REQUEST_ID = re.compile(r"[a-z0-9]{16}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} \+0000")
SCHEMA = {"cpf", "email", "displayName", "givenName", "familyName", "mobileNumber"}
ALL_ATTRIBUTES = {*SCHEMA, "onboardingRequestId", "id", "uuid", "created", "lastUpdated"}
ENVELOPE = {"stat", "code", "error", "error_description", "argument_name", "request_id"}
_402 = "invalid_client_credentials"


def error_of(response: httpx.Response, code: int, name: str, argument: str | None) -> str:
    """Check an error answer: HTTP 200, the envelope, the code's name; its description."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stat"] == "error"
    assert (body["code"], body["error"]) == (code, name), body
    assert body.get("argument_name") == argument, body
    assert REQUEST_ID.fullmatch(body["request_id"])
    assert set(body) <= ENVELOPE
    assert isinstance(body["error_description"], str) and body["error_description"]
    return str(body["error_description"])


def key(value: str) -> str:
    return json.dumps(value)  # key_value is JSON text: a string in double quotes


async def read(client: httpx.AsyncClient, method: str = "POST", **fields: str) -> httpx.Response:
    return await entity_call(client, "entity", {"type_name": "user", **fields}, method=method)


async def find(client: httpx.AsyncClient, method: str = "POST", **fields: str) -> httpx.Response:
    return await entity_call(client, "entity.find", {"type_name": "user", **fields}, method=method)


async def set_lag(client: httpx.AsyncClient, seconds: float) -> None:
    answer = await client.post(
        "/_sandbox/config", json={"identity_cloud_find_lag_seconds": seconds}
    )
    assert answer.status_code == 200, answer.text


# -- create and read ---------------------------------------------------------------------


async def test_create_answers_an_id_and_a_uuid(client: httpx.AsyncClient) -> None:
    created = await create_user(client, user())
    assert set(created) == {"stat", "id", "uuid"}
    assert created["id"] == 2, "the seeded record is 1"
    assert uuid.UUID(created["uuid"]).version == 4
    again = await create_user(client, user("39053344705"), include_record="true")
    assert again["id"] == 3
    record = again["result"]
    assert set(record) == ALL_ATTRIBUTES
    assert (record["id"], record["uuid"]) == (3, again["uuid"])
    assert (record["cpf"], record["givenName"], record["mobileNumber"]) == (
        "39053344705",
        "Leia",
        None,
    )
    assert TIMESTAMP.fullmatch(record["created"]) and record["lastUpdated"] == record["created"]
    assert [r["id"] for r in await records(client)] == [1, 2, 3]
    assert "result" not in await create_user(client, user("11111111111"), include_record="false")


async def test_values_are_stored_as_given(client: httpx.AsyncClient) -> None:
    attributes = user(
        email="Leia.Organa@Example.COM", onboardingRequestId="req-7", mobileNumber=None
    )
    created = await create_user(client, attributes, include_record="true")
    assert created["result"]["email"] == "Leia.Organa@Example.COM"
    assert created["result"]["onboardingRequestId"] == "req-7"


async def test_a_new_record_reads_at_once_by_uuid_id_and_unique_keys(
    client: httpx.AsyncClient,
) -> None:
    created = await create_user(client, user(email="Leia@Example.com"), include_record="true")
    record = created["result"]
    selectors: list[dict[str, str]] = [
        {"uuid": created["uuid"]},
        {"id": str(created["id"])},
        {"key_attribute": "cpf", "key_value": key("52998224725")},
        {"key_attribute": "email", "key_value": key("leia@example.COM")},  # case-insensitive
    ]
    for selector in selectors:
        for method in ("POST", "GET"):
            answer = await read(client, method, **selector)
            assert answer.status_code == 200
            assert answer.json() == {"stat": "ok", "result": record}, selector


async def test_attributes_pick_what_a_read_answers(client: httpx.AsyncClient) -> None:
    picked = await read(client, id="1", attributes=json.dumps(["uuid", "givenName"]))
    assert picked.json()["result"] == {
        "uuid": "3f2c6a1e-8b4d-4c7a-9e51-6d0b2a9f7c13",
        "givenName": "Ana",
    }


# -- find and its replication lag -------------------------------------------------------


async def test_find_sees_a_new_record_only_after_the_lag(client: httpx.AsyncClient) -> None:
    await set_lag(client, 0.3)
    await create_user(client, user())
    mine = "cpf = '52998224725'"
    seeded = f"cpf = '{SEEDED_CPF}'"
    assert (await find(client, filter=mine)).json() == {
        "stat": "ok",
        "result_count": 0,
        "results": [],
    }
    old = (await find(client, filter=seeded)).json()
    assert old["result_count"] == 1 and old["results"][0]["email"] == SEEDED_EMAIL
    assert (await read(client, key_attribute="cpf", key_value=key("52998224725"))).json()[
        "stat"
    ] == "ok", "the primary has it at once"

    await asyncio.sleep(0.4)
    found = (await find(client, filter=mine)).json()
    assert found["result_count"] == 1 and found["results"][0]["cpf"] == "52998224725"
    everyone = (await find(client, "GET")).json()  # no filter: every visible record
    assert [r["id"] for r in everyone["results"]] == [1, 2]


async def test_the_default_lag_hides_a_record_just_created(client: httpx.AsyncClient) -> None:
    await create_user(client, user())
    assert (await find(client, filter="cpf = '52998224725'")).json()["result_count"] == 0


async def test_find_filters_with_and_and_pages(client: httpx.AsyncClient) -> None:
    await set_lag(client, 0)
    for cpf in ("52998224725", "39053344705", "11111111111"):
        await create_user(client, user(cpf, familyName="Solo"))
    both = await find(client, filter="familyName = 'Solo' and cpf = '39053344705'")
    assert [r["cpf"] for r in both.json()["results"]] == ["39053344705"]
    folded = await find(client, filter=f"email = '{SEEDED_EMAIL.upper()}'")
    assert folded.json()["result_count"] == 1
    page = await find(
        client,
        filter="familyName = 'Solo'",
        max_results="2",
        first_result="1",
        attributes=json.dumps(["cpf"]),
    )
    assert page.json() == {
        "stat": "ok",
        "result_count": 2,
        "results": [{"cpf": "39053344705"}, {"cpf": "11111111111"}],
    }
    by_id = await find(client, "GET", filter="id = 1")
    assert by_id.json()["results"][0]["cpf"] == SEEDED_CPF


def test_the_filter_grammar() -> None:
    assert parse_filter("email = 'o''brien@x.com'") == [Clause("email", "o'brien@x.com")]
    assert parse_filter("  a='1'AND b = 2 ") == [Clause("a", "1"), Clause("b", "2")]
    for bad in ("cpf", "cpf = 1 or a = '2'", "cpf = '1' and", "cpf == '1'", "cpf = 'open"):
        assert parse_filter(bad) is None, bad


# -- refusals ---------------------------------------------------------------------------

ATTRIBUTES = json.dumps(user())

CREATE_REFUSALS: list[tuple[dict[str, str], int, str, str | None]] = [
    ({"attributes": ATTRIBUTES}, 100, "missing_argument", "type_name"),
    ({"type_name": "", "attributes": ATTRIBUTES}, 100, "missing_argument", "type_name"),
    ({"type_name": "user"}, 100, "missing_argument", "attributes"),
    ({"type_name": "person", "attributes": ATTRIBUTES}, 222, "unknown_entity_type", "type_name"),
    ({"type_name": "user", "attributes": "{cpf"}, 200, "invalid_argument", "attributes"),
    ({"type_name": "user", "attributes": "[1]"}, 200, "invalid_argument", "attributes"),
    (
        {"type_name": "user", "attributes": ATTRIBUTES, "include_record": "yes"},
        200,
        "invalid_argument",
        "include_record",
    ),
]

ATTRIBUTE_REFUSALS: list[tuple[dict[str, Any], int, str, str]] = [
    # (attributes, code, error, the word the description names)
    (user(id=7), 320, "id_in_new_record", "id"),
    (user(uuid=str(uuid.uuid4())), 320, "id_in_new_record", "uuid"),
    (user(created="2026-01-01"), 320, "id_in_new_record", "created"),
    (user(lastUpdated="2026-01-01"), 320, "id_in_new_record", "lastUpdated"),
    (user(birthday="1977-05-25"), 223, "unknown_attribute", "birthday"),
    ({**user(), "cpf": 52998224725}, 341, "invalid_json_type", "cpf"),
    (user(givenName=["Leia"]), 341, "invalid_json_type", "givenName"),
    (user(cpf="5" * 21), 363, "length_violation", "cpf"),
    (user(email="e" * 250 + "@x.io"), 363, "length_violation", "email"),
    (user(displayName="d" * 101), 363, "length_violation", "displayName"),
    (user(mobileNumber="9" * 31), 363, "length_violation", "mobileNumber"),
    (user(onboardingRequestId="r" * 129), 363, "length_violation", "onboardingRequestId"),
    ({k: v for k, v in user().items() if k != "cpf"}, 362, "missing_required_attribute", "cpf"),
    ({**user(), "cpf": None}, 362, "missing_required_attribute", "cpf"),
    (user(cpf=""), 362, "missing_required_attribute", "cpf"),
    # The order of the checks: a service-set attribute before an unknown one, and so on.
    (user(id=1, birthday="x"), 320, "id_in_new_record", "id"),
    (user(birthday=1), 223, "unknown_attribute", "birthday"),
    ({**user(givenName="g" * 101), "cpf": None}, 363, "length_violation", "givenName"),
]


@pytest.mark.parametrize(("fields", "code", "name", "argument"), CREATE_REFUSALS)
async def test_create_refuses_bad_arguments(client, fields, code, name, argument) -> None:
    error_of(await entity_call(client, "entity.create", fields), code, name, argument)
    assert len(await records(client)) == 1


@pytest.mark.parametrize(("attributes", "code", "name", "named"), ATTRIBUTE_REFUSALS)
async def test_create_refuses_attributes_the_schema_refuses(
    client, attributes, code, name, named
) -> None:
    fields = {"type_name": "user", "attributes": json.dumps(attributes)}
    description = error_of(
        await entity_call(client, "entity.create", fields), code, name, "attributes"
    )
    assert named in description
    for value in attributes.values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in description, "a description never echoes a value"
    assert len(await records(client)) == 1


async def test_a_duplicate_cpf_or_email_is_361_and_creates_nothing(
    client: httpx.AsyncClient,
) -> None:
    cases = [
        (user(SEEDED_CPF), "cpf"),
        (user(email=SEEDED_EMAIL.upper()), "email"),  # e-mails compare case-insensitively
        (user(SEEDED_CPF, email=SEEDED_EMAIL), "cpf"),  # cpf is checked first
    ]
    for attributes, named in cases:
        fields = {"type_name": "user", "attributes": json.dumps(attributes)}
        answer = await entity_call(client, "entity.create", fields)
        description = error_of(answer, 361, "unique_violation", None)
        assert description == f"the value of {named} is not unique"
        assert SEEDED_CPF not in description and SEEDED_EMAIL not in description.lower()
    assert len(await records(client)) == 1
    await create_user(client, user(email="another@example.com"))
    retried = {"type_name": "user", "attributes": json.dumps(user(email="x@example.com"))}
    error_of(await entity_call(client, "entity.create", retried), 361, "unique_violation", None)
    assert len(await records(client)) == 2, "a retried create makes no second record"


async def test_records_without_email_do_not_clash(client: httpx.AsyncClient) -> None:
    await create_user(client, user(email=None))
    await create_user(client, user("39053344705", email=None))
    assert [r["email"] for r in await records(client)] == [SEEDED_EMAIL, None, None]


READ_REFUSALS: list[tuple[dict[str, str], int, str, str | None]] = [
    ({"id": "1"}, 100, "missing_argument", "type_name"),
    ({"type_name": "user"}, 100, "missing_argument", "uuid"),
    ({"type_name": "users", "id": "1"}, 222, "unknown_entity_type", "type_name"),
    ({"type_name": "user", "id": "1", "uuid": "u"}, 201, "duplicate_argument", "id"),
    (
        {"type_name": "user", "id": "1", "key_attribute": "cpf", "key_value": key(SEEDED_CPF)},
        201,
        "duplicate_argument",
        "key_attribute",
    ),
    ({"type_name": "user", "key_attribute": "cpf"}, 100, "missing_argument", "key_value"),
    ({"type_name": "user", "key_value": key(SEEDED_CPF)}, 100, "missing_argument", "key_attribute"),
    (
        {"type_name": "user", "key_attribute": "cpf", "key_value": SEEDED_CPF + "x"},
        200,
        "invalid_argument",
        "key_value",
    ),
    (
        {"type_name": "user", "key_attribute": "cpf", "key_value": "[1]"},
        200,
        "invalid_argument",
        "key_value",
    ),
    (
        {"type_name": "user", "key_attribute": "givenName", "key_value": key("Ana")},
        200,
        "invalid_argument",
        "key_attribute",
    ),
    (
        {"type_name": "user", "key_attribute": "shoeSize", "key_value": key("42")},
        223,
        "unknown_attribute",
        "key_attribute",
    ),
    ({"type_name": "user", "id": "one"}, 200, "invalid_argument", "id"),
    ({"type_name": "user", "id": "1.0"}, 200, "invalid_argument", "id"),
    ({"type_name": "user", "id": "1", "attributes": "cpf"}, 200, "invalid_argument", "attributes"),
    (
        {"type_name": "user", "id": "1", "attributes": '["shoeSize"]'},
        223,
        "unknown_attribute",
        "attributes",
    ),
    ({"type_name": "user", "id": "99"}, 310, "record_not_found", None),
    ({"type_name": "user", "uuid": str(uuid.uuid4())}, 310, "record_not_found", None),
    (
        {"type_name": "user", "key_attribute": "cpf", "key_value": key("52998224725")},
        310,
        "record_not_found",
        None,
    ),
    (
        {"type_name": "user", "key_attribute": "cpf", "key_value": SEEDED_CPF},  # a number
        310,
        "record_not_found",
        None,
    ),
]


@pytest.mark.parametrize(("fields", "code", "name", "argument"), READ_REFUSALS)
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_entity_refusals(client, method, fields, code, name, argument) -> None:
    error_of(await entity_call(client, "entity", fields, method=method), code, name, argument)


FIND_REFUSALS: list[tuple[dict[str, str], int, str, str | None]] = [
    ({"filter": "cpf = '1'"}, 100, "missing_argument", "type_name"),
    ({"type_name": "account", "filter": "cpf = '1'"}, 222, "unknown_entity_type", "type_name"),
    ({"type_name": "user", "filter": "cpf = "}, 200, "invalid_argument", "filter"),
    ({"type_name": "user", "filter": "cpf = '1' or cpf = '2'"}, 200, "invalid_argument", "filter"),
    ({"type_name": "user", "filter": "shoeSize = '42'"}, 223, "unknown_attribute", "filter"),
    ({"type_name": "user", "max_results": "0"}, 200, "invalid_argument", "max_results"),
    ({"type_name": "user", "max_results": "10001"}, 200, "invalid_argument", "max_results"),
    ({"type_name": "user", "max_results": "ten"}, 200, "invalid_argument", "max_results"),
    ({"type_name": "user", "first_result": "-1"}, 200, "invalid_argument", "first_result"),
    ({"type_name": "user", "attributes": "{}"}, 200, "invalid_argument", "attributes"),
]


@pytest.mark.parametrize(("fields", "code", "name", "argument"), FIND_REFUSALS)
async def test_find_refusals(client, fields, code, name, argument) -> None:
    error_of(await entity_call(client, "entity.find", fields), code, name, argument)


@pytest.mark.parametrize(
    "content",
    [
        {"json": {"type_name": "user", "attributes": ATTRIBUTES}},
        {"files": {"attributes": ("a.json", ATTRIBUTES)}, "data": {"type_name": "user"}},
    ],
    ids=["json", "multipart"],
)
async def test_a_body_that_is_not_a_form_holds_no_fields(client, content) -> None:
    answer = await client.post(f"{IDENTITY_CLOUD}/entity.create", headers=basic(), **content)
    error_of(answer, 100, "missing_argument", "type_name")
    assert len(await records(client)) == 1


# -- credentials ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(secret="wrong"),
        basic(client_id="someone-else"),
        basic(secret=IC_SECRET + "x"),
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Basic " + "b25ib2FyZGluZy1zYW5kYm94"},  # no colon, no secret
        {"Authorization": "Bearer " + IC_SECRET},
    ],
    ids=["none", "wrong-secret", "wrong-id", "longer-secret", "garbled", "no-secret", "bearer"],
)
async def test_missing_or_wrong_credentials_are_402(client, headers) -> None:
    fields = {"type_name": "user", "attributes": ATTRIBUTES}
    error_of(await entity_call(client, "entity.create", fields, headers), 402, _402, None)
    for operation in ("entity", "entity.find"):
        answer = await entity_call(client, operation, {"type_name": "user", "id": "1"}, headers)
        error_of(answer, 402, _402, None)
    assert len(await records(client)) == 1


async def test_form_field_credentials_are_accepted(client: httpx.AsyncClient) -> None:
    credentials = {"client_id": IC_CLIENT_ID, "client_secret": IC_SECRET}
    fields = {"type_name": "user", "attributes": ATTRIBUTES, **credentials}
    created = await entity_call(client, "entity.create", fields, headers={})
    assert created.json()["stat"] == "ok"
    got = await entity_call(client, "entity", {"type_name": "user", "id": "2", **credentials}, {})
    assert got.json()["result"]["cpf"] == "52998224725"
    wrong = {**credentials, "client_secret": "nope"}
    answer = await entity_call(client, "entity", {"type_name": "user", "id": "2", **wrong}, {})
    error_of(answer, 402, _402, None)


async def test_a_secret_rotated_at_run_time_refuses_the_old_one(
    client: httpx.AsyncClient,
) -> None:
    assert (await read(client, id="1")).json()["stat"] == "ok"
    changed = await client.post("/_sandbox/config", json={"identity_cloud_client_secret": "s2"})
    assert changed.status_code == 200
    assert changed.json()["identity_cloud_client_secret_changed"] is True
    assert "s2" not in changed.text and IC_SECRET not in changed.text
    error_of(await read(client, id="1"), 402, _402, None)
    fresh = await entity_call(
        client, "entity", {"type_name": "user", "id": "1"}, basic(secret="s2")
    )
    assert fresh.json()["stat"] == "ok"
    await client.post("/_sandbox/reset")  # reset keeps /config's settings, the secret too
    error_of(await read(client, id="1"), 402, _402, None)


@pytest.mark.parametrize(
    "body",
    [
        {"identity_cloud_client_secret": ""},
        {"identity_cloud_client_secret": 7},
        {"identity_cloud_find_lag_seconds": -1},
        {"identity_cloud_find_lag_seconds": "1"},
        {"identity_cloud_find_lag_seconds": True},
        {"identity_cloud_client_id": "other"},
        {"identity_cloud_find_lag_seconds": 1, "token_lifetime_seconds": -1},
    ],
)
async def test_config_refuses_bad_identity_cloud_settings(client, body) -> None:
    response = await client.post("/_sandbox/config", json=body)
    assert response.status_code == 400 and "error" in response.json()
    settings = (await client.get("/_sandbox/config")).json()
    assert settings["identity_cloud_find_lag_seconds"] == 30.0
    assert settings["identity_cloud_client_secret_changed"] is False
    assert (await read(client, id="1")).json()["stat"] == "ok", "the secret is unchanged"


# -- admin: reset, records, stats -------------------------------------------------------


async def test_reset_restores_the_seeded_record(client: httpx.AsyncClient) -> None:
    seeded = await records(client)
    assert len(seeded) == 1
    assert {k: seeded[0][k] for k in ("id", "cpf", "email", "displayName")} == {
        "id": 1,
        "cpf": SEEDED_CPF,
        "email": SEEDED_EMAIL,
        "displayName": "Ana Existing",
    }
    assert (seeded[0]["givenName"], seeded[0]["familyName"]) == ("Ana", "Existing")
    await create_user(client, user())
    await create_user(client, user("39053344705"))
    assert len(await records(client)) == 3

    await client.post("/_sandbox/reset")
    assert await records(client) == seeded
    assert (await create_user(client, user()))["id"] == 2, "ids start again from 2"
    stats = (await client.get("/_sandbox/stats")).json()
    assert (stats["entity_create_requests"], stats["records_created"]) == (1, 1)


async def test_stats_count_every_entity_request(client: httpx.AsyncClient) -> None:
    await create_user(client, user())
    await entity_call(client, "entity.create", {"type_name": "user", "attributes": "{"})
    await entity_call(client, "entity.create", {"type_name": "user"}, headers={})
    await read(client, id="1")
    await read(client, id="99")
    await find(client, filter="cpf = ")
    await find(client)
    await find(client, "GET")
    stats = (await client.get("/_sandbox/stats")).json()
    counts = {name: stats[name] for name in ("entity_create_requests", "records_created")}
    assert counts == {"entity_create_requests": 3, "records_created": 1}
    assert (stats["entity_requests"], stats["entity_find_requests"]) == (2, 3)
    assert stats["by_status"] == {"200": 8}, "every answer of the entity API is HTTP 200"
    assert stats["by_code"] == {"200": 2, "402": 1, "310": 1}
    assert (stats["create_requests"], stats["token_requests"]) == (0, 0), "Unico's are apart"


async def test_a_bug_of_ours_answers_as_the_services_own_failure() -> None:
    app = create_app(make_config())

    def broken(record_id: int) -> dict[str, Any]:
        raise RuntimeError("bug")

    app.state.sandbox.entities.by_id = broken
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as client:
        error_of(await read(client, id="1"), 500, "unexpected_error", None)


# -- fault rules ------------------------------------------------------------------------


async def inject(client: httpx.AsyncClient, *rules: dict[str, Any]) -> None:
    response = await client.post("/_sandbox/faults", json={"rules": list(rules)})
    assert response.status_code == 200, response.text


async def test_a_coded_rule_answers_the_envelope_with_http_200(client: httpx.AsyncClient) -> None:
    await inject(client, {"endpoint": "entity.create", "code": 510, "times": 2})
    fields = {"type_name": "user", "attributes": ATTRIBUTES}
    answers = [await entity_call(client, "entity.create", fields) for _ in "abc"]
    for answer in answers[:2]:
        error_of(answer, 510, "api_limit_error", None)
    assert answers[2].json()["stat"] == "ok"
    assert len(await records(client)) == 2, "an injected error handles nothing"
    stats = (await client.get("/_sandbox/stats")).json()
    assert (stats["entity_create_requests"], stats["records_created"]) == (3, 1)
    assert stats["by_code"] == {"510": 2}
    faults = (await client.get("/_sandbox/faults")).json()
    assert faults == {"rules": [], "fired": {"entity.create": 2}}


async def test_coded_rules_name_known_codes_and_take_a_status(client: httpx.AsyncClient) -> None:
    await inject(
        client,
        {"endpoint": "entity", "code": 403},
        {"endpoint": "entity", "code": "500", "status": 502, "retry_after": 3},
        {"endpoint": "entity", "code": 777},
        {"endpoint": "entity.find", "code": 540},
    )
    error_of(await read(client, id="1"), 403, "client_permission_error", None)
    upstream = await read(client, id="1")
    assert (upstream.status_code, upstream.headers["retry-after"]) == (502, "3")
    assert upstream.json()["code"] == 500 and upstream.json()["error"] == "unexpected_error"
    unknown = await read(client, id="1")
    assert error_of(unknown, 777, "unknown_error", None) == "Injected fault"
    error_of(await find(client), 540, "triggered_error", None)
    assert (await read(client, id="1")).json()["stat"] == "ok"


async def test_a_status_without_a_code_is_a_proxys_page(client: httpx.AsyncClient) -> None:
    await inject(client, {"endpoint": "entity.find", "status": 503, "retry_after": 1})
    answer = await find(client)
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["retry-after"] == "1"
    assert "503 Service Unavailable" in answer.text
    with pytest.raises(ValueError):
        answer.json()  # not JSON: a transport-level failure
    assert (await find(client)).json()["stat"] == "ok"


async def test_a_slow_answer_comes_after_the_record_exists(client: httpx.AsyncClient) -> None:
    await inject(client, {"endpoint": "entity.create", "delay_seconds": 1.0})
    fields = {"type_name": "user", "attributes": ATTRIBUTES}
    call = asyncio.create_task(entity_call(client, "entity.create", fields))
    while len(await records(client)) == 1:
        await asyncio.sleep(0.01)
    assert not call.done(), "the record exists while its answer is still held back"
    assert (await call).json()["stat"] == "ok"


async def test_a_dropped_create_still_creates_its_record() -> None:
    # Over real HTTP: the ASGI transport has no connection to lose.
    async with serving(create_app(make_config())) as url, httpx.AsyncClient(base_url=url) as http:
        await http.post(
            "/_sandbox/faults", json={"endpoint": "entity.create", "drop_connection": True}
        )
        fields = {"type_name": "user", "attributes": ATTRIBUTES}
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(f"{IDENTITY_CLOUD}/entity.create", data=fields, headers=basic())
        assert [r["cpf"] for r in await records(http)] == [SEEDED_CPF, "52998224725"]
        stats = (await http.get("/_sandbox/stats")).json()
        assert (stats["records_created"], stats["by_status"]) == (1, {"dropped": 1})
        # The retry learns from 361 that its first try succeeded.
        retry = await http.post(f"{IDENTITY_CLOUD}/entity.create", data=fields, headers=basic())
        error_of(retry, 361, "unique_violation", None)


@pytest.mark.parametrize(
    "rule",
    [
        {"endpoint": "entity.create", "code": "api_limit_error"},
        {"endpoint": "entity.find", "code": "5.1.0"},
        {"endpoint": "entity", "code": -510},
        {"endpoint": "entity.update"},
        {"endpoint": "entity.create", "drop_connection": True, "code": 510},
    ],
)
async def test_bad_identity_cloud_rules_are_refused(client, rule) -> None:
    response = await client.post("/_sandbox/faults", json=rule)
    assert response.status_code == 400 and "error" in response.json()
    assert (await client.get("/_sandbox/faults")).json()["rules"] == []


# -- rate limit -------------------------------------------------------------------------


async def test_over_the_rate_limit_the_answer_is_510_with_http_200() -> None:
    async with client_for(make_config(identity_cloud_rate_limit=2)) as client:
        answers = [await read(client, id="1") for _ in range(3)]
        assert [a.json()["stat"] for a in answers] == ["ok", "ok", "error"]
        error_of(answers[2], 510, "api_limit_error", None)
        auth = await bearer(client)  # Unico has its own (unlimited) budget
        created = await client.post("/processes/v1", json=create_body(), headers=auth)
        assert created.status_code == 200
        seen = (await client.get("/_sandbox/rate-limit")).json()
        assert {"rate", "burst", "refused", "arrivals"} <= set(seen)
        assert (seen["rate"], seen["refused"], len(seen["arrivals"])) == (0, 0, 1)
        limit = seen["identity_cloud"]
        assert (limit["rate"], limit["burst"], limit["refused"]) == (2, 2, 1)
        assert len(limit["arrivals"]) == 3
        stats = (await client.get("/_sandbox/stats")).json()
        assert (stats["entity_requests"], stats["by_code"]) == (3, {"510": 1})
        await asyncio.sleep(0.6)  # a token comes back every half second
        assert (await read(client, id="1")).json()["stat"] == "ok"
        await client.post("/_sandbox/reset")
        after = (await client.get("/_sandbox/rate-limit")).json()["identity_cloud"]
        assert (after["refused"], after["arrivals"]) == (0, [])


async def test_a_limited_call_meets_no_fault_rule() -> None:
    async with client_for(make_config(identity_cloud_rate_limit=1)) as client:
        assert (await read(client, id="1")).json()["stat"] == "ok"
        await inject(client, {"endpoint": "entity", "code": 403})
        error_of(await read(client, id="1"), 510, "api_limit_error", None)
        faults = (await client.get("/_sandbox/faults")).json()
        assert (len(faults["rules"]), faults["fired"]) == (1, {}), "the rule is still there"


async def test_without_a_rate_limit_every_call_is_admitted(client: httpx.AsyncClient) -> None:
    for _ in range(30):
        assert (await read(client, id="1")).json()["stat"] == "ok"
    limit = (await client.get("/_sandbox/rate-limit")).json()["identity_cloud"]
    assert (limit["rate"], limit["refused"], len(limit["arrivals"])) == (0, 0, 30)


# -- the log ----------------------------------------------------------------------------


async def test_log_lines_hold_no_personal_data(client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="sandbox")
    await set_lag(client, 0)
    personal = user(email="leia.organa@alderaan.example", mobileNumber="+5511987654321")
    await create_user(client, personal, include_record="true")
    await read(client, key_attribute="email", key_value=key("leia.organa@alderaan.example"))
    await read(client, "GET", key_attribute="cpf", key_value=key("52998224725"))
    await find(client, "GET", filter="email = 'leia.organa@alderaan.example'")
    duplicate = {"type_name": "user", "attributes": json.dumps(personal)}
    await entity_call(client, "entity.create", duplicate)
    await entity_call(client, "entity.create", duplicate, headers=basic(secret="wrong"))

    lines = [r.getMessage() for r in caplog.records if r.name == "sandbox"]
    assert len(lines) == 7
    assert lines[1].startswith("POST /identity-cloud/entity.create 200")
    assert lines[3].startswith("GET /identity-cloud/entity 200")
    assert lines[4].startswith("GET /identity-cloud/entity.find 200")
    assert "code=361" in lines[5] and "code=402" in lines[6]
    secrets = (*personal.values(), SEEDED_CPF, "alderaan", "Organa", IC_SECRET, "wrong")
    for secret in secrets:
        assert all(secret not in line for line in lines), secret


# -- flags ------------------------------------------------------------------------------


def _key(tmp_path: Path) -> list[str]:
    path = tmp_path / "public.pem"
    path.write_bytes(public_pem(private_key()))
    return ["--public-key", str(path), "--service-account", ISS, "--api-key", "k"]


def test_identity_cloud_flags_and_environment(tmp_path: Path) -> None:
    defaults = load_config(_key(tmp_path), {})
    assert (defaults.identity_cloud_client_id, defaults.identity_cloud_client_secret) == (
        "onboarding-sandbox",
        "sandbox-secret",
    )
    assert (defaults.identity_cloud_find_lag_seconds, defaults.identity_cloud_rate_limit) == (30, 0)
    env = {
        "SANDBOX_IDENTITY_CLOUD_CLIENT_ID": "env-id",
        "SANDBOX_IDENTITY_CLOUD_CLIENT_SECRET": "env-secret",
        "SANDBOX_IDENTITY_CLOUD_FIND_LAG_SECONDS": "0.5",
        "SANDBOX_IDENTITY_CLOUD_RATE_LIMIT": "4",
    }
    from_env = load_config(_key(tmp_path), env)
    assert (from_env.identity_cloud_client_id, from_env.identity_cloud_client_secret) == (
        "env-id",
        "env-secret",
    )
    assert (from_env.identity_cloud_find_lag_seconds, from_env.identity_cloud_rate_limit) == (
        0.5,
        4,
    )
    assert from_env.identity_cloud_rate_burst == 4  # one second's worth
    flags = [
        *_key(tmp_path),
        "--identity-cloud-client-id",
        "flag-id",
        "--identity-cloud-client-secret",
        "flag-secret",
        "--identity-cloud-find-lag",
        "2",
        "--identity-cloud-rate-limit",
        "0.5",
    ]
    from_flags = load_config(flags, env)
    assert (from_flags.identity_cloud_client_id, from_flags.identity_cloud_client_secret) == (
        "flag-id",
        "flag-secret",
    )
    assert (from_flags.identity_cloud_find_lag_seconds, from_flags.identity_cloud_rate_burst) == (
        2,
        1,
    )


async def test_the_configured_credentials_are_the_ones_asked_for() -> None:
    config = make_config(identity_cloud_client_id="app-7", identity_cloud_client_secret="s7")
    async with client_for(config) as client:
        error_of(await read(client, id="1"), 402, _402, None)
        answer = await entity_call(
            client, "entity", {"type_name": "user", "id": "1"}, basic("app-7", "s7")
        )
        assert answer.json()["stat"] == "ok"


@pytest.mark.parametrize(
    "extra", [["--identity-cloud-find-lag", "-1"], ["--identity-cloud-rate-limit", "fast"]]
)
def test_bad_identity_cloud_values_are_config_errors(tmp_path: Path, extra: list[str]) -> None:
    with pytest.raises(ConfigError):
        load_config([*_key(tmp_path), *extra], {})
