"""Fault injection: rules that make the next calls to one of Unico's, Identity Cloud's or
Auth0's endpoints fail, answer slowly or lose their answer, so that every error class can
be exercised over real HTTP.

`POST /_sandbox/faults` adds one rule, or `{"rules": [...]}`; `GET` shows the rules left and
how many fired; `DELETE` (and `POST /_sandbox/reset`) removes them all. A rule:

    {"endpoint": "token" | "create" | "get"                 Unico's
                | "entity.create" | "entity" | "entity.find"    Identity Cloud's
                | "auth0-token" | "ticket"                      Auth0's tenant
                | "start-flow" | "sms-enroll" | "verify-otp",   Guardian's (required)
     "times": 2,              how many calls it hits (default 1; null: until removed)
     "status": 503,           answer this HTTP status instead of handling the call
     "code": 99999,           ... with this code in the endpoint's envelope ("1.2.18" on
                              token; a word such as "invalid_otp" on Auth0's; a number
                              elsewhere); the status then defaults to the code's own (500
                              for a code the sandbox does not know, 400 on Auth0's; 200 on
                              Identity Cloud, which answers every error with 200)
     "retry_after": 2,        send `Retry-After: 2` with that answer
     "delay_seconds": 3,      wait first: before the error answer, or, for a rule without
                              status and code, after handling the call and before answering
     "drop_connection": true} handle the call (a create creates its process or record, a
                              verify-otp confirms its enrollment), then close the
                              connection without a complete answer

On Identity Cloud's endpoints a `status` without a `code` answers what a proxy in front of
the service would: that status with an HTML page, a body that is not JSON. On Auth0's it
is the endpoint's envelope without a code of its own (`auth0-token`: `server_error`,
`invalid_request` or `too_many_requests` by the status; the others: no `errorCode`). On
`ticket` and Guardian's a `too_many_*` code carries the `x-ratelimit-*` headers and
`Retry-After` (60 s unless the rule says), as the real limit's answer does.

Rules match in the order they were added; each call consumes at most one.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from sandbox.guardian.errors import AuthError, GuardianError, guardian_body
from sandbox.guardian.ratelimit import limited_headers
from sandbox.identity_cloud.errors import EntityError
from sandbox.unico.processes import ERRORS

IDENTITY_CLOUD_ENDPOINTS = ("entity.create", "entity", "entity.find")
AUTH0_TOKEN = "auth0-token"
GUARDIAN_ENDPOINTS = ("ticket", "start-flow", "sms-enroll", "verify-otp")  # their envelope
AUTH0_ENDPOINTS = (AUTH0_TOKEN, *GUARDIAN_ENDPOINTS)
ENDPOINTS = ("token", "create", "get", *IDENTITY_CLOUD_ENDPOINTS, *AUTH0_ENDPOINTS)
LIMITED_WAIT_SECONDS = 60.0  # an injected too_many_*'s Retry-After unless the rule says
_WORD = re.compile(r"[a-z][a-z0-9_]*")
_KEYS = {"endpoint", "times", "status", "code", "retry_after", "delay_seconds", "drop_connection"}


class InjectedError(Exception):
    """The answer a rule gives instead of the endpoint's own."""

    def __init__(
        self,
        status_code: int,
        body: Mapping[str, Any] | str,  # text: a proxy's HTML page
        code: str,
        retry_after: float | None,
        headers: Mapping[str, str] | None = None,  # the system's own, such as x-ratelimit-*
    ) -> None:
        super().__init__(code)
        self.status_code, self.body, self.code = status_code, body, code
        self.headers = dict(headers or {})
        if retry_after is not None:
            self.headers["Retry-After"] = f"{retry_after:g}"


@dataclass
class FaultRule:
    endpoint: str
    times: int | None = 1
    status: int | None = None
    code: str | int | None = None
    retry_after: float | None = None
    delay_seconds: float = 0.0
    drop_connection: bool = False

    @property
    def answers(self) -> bool:
        """Whether the rule answers in the endpoint's place (else it only delays or drops)."""
        return self.status is not None or self.code is not None

    async def before_handling(self, sms_per_hour: int = 10) -> None:
        """`sms_per_hour`: the limit an injected too_many_* answer states."""
        if self.answers:
            await asyncio.sleep(self.delay_seconds)
            raise self.error(sms_per_hour)

    async def after_handling(self) -> None:
        await asyncio.sleep(self.delay_seconds)

    def error(self, sms_per_hour: int = 10) -> InjectedError:
        body: Mapping[str, Any] | str
        code = "" if self.code is None else str(self.code)
        if self.endpoint in GUARDIAN_ENDPOINTS:
            return _guardian_error(self.status, self.code, self.retry_after, sms_per_hour)
        if self.endpoint == AUTH0_TOKEN:
            status, body = _auth0_token_answer(self.status, self.code)
        elif self.endpoint == "token":
            status, body = _token_answer(self.status, self.code)
        elif self.endpoint in IDENTITY_CLOUD_ENDPOINTS:
            status, body = _entity_answer(self.status, self.code)
        else:
            status, body = _process_answer(self.status, self.code)
        return InjectedError(status, body, code, self.retry_after)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _token_answer(status: int | None, code: str | int | None) -> tuple[int, dict[str, Any]]:
    """The token endpoint's envelope: the x.x.x code ends error_description (seed 000)."""
    if code is not None:
        description = f"Falha na autenticação {code}"
        return status or 401, {"error": "server_error", "error_description": description}
    status = status or 500
    return status, {"error": "server_error", "error_description": _phrase(status)}


def _process_answer(status: int | None, code: str | int | None) -> tuple[int, dict[str, Any]]:
    """The process API's envelope, with the seed's description when the code is known."""
    if code is None:
        status = status or 500
        return status, {"error": {"description": _phrase(status)}}
    known = ERRORS.get(int(code)) if str(code).isdigit() else None
    default_status, description = known or (500, "Injected fault")
    return status or default_status, {"error": {"code": code, "description": description}}


def _entity_answer(
    status: int | None, code: str | int | None
) -> tuple[int, Mapping[str, Any] | str]:
    """Identity Cloud's envelope with HTTP 200; without a code, a proxy's page, not JSON."""
    if code is None:
        status = status or 500
        return status, f"<html><body><h1>{status} {_phrase(status)}</h1></body></html>"
    error = EntityError(int(code), status_code=status or 200)
    return error.status_code, error.body


def _auth0_token_answer(status: int | None, code: str | int | None) -> tuple[int, Any]:
    """The authentication API's envelope; without a code, OAuth's word for the status."""
    if code is None:
        status = status or 500
        if status == 429:
            word = "too_many_requests"
        else:
            word = "server_error" if status >= 500 else "invalid_request"
        return status, {"error": word, "error_description": _phrase(status)}
    error = AuthError(str(code), "Injected fault", status)
    return error.status_code, error.body


def _guardian_error(
    status: int | None, code: str | int | None, retry_after: float | None, sms_per_hour: int
) -> InjectedError:
    """Guardian's envelope; a too_many_* code with the limit's headers, Retry-After included."""
    if code is None:
        status = status or 500
        return InjectedError(status, guardian_body(status, _phrase(status), None), "", retry_after)
    word = str(code)
    if not word.startswith("too_many_"):
        error = GuardianError(word, "Injected fault", status)
        return InjectedError(error.status_code, error.body, word, retry_after)
    wait = math.ceil(LIMITED_WAIT_SECONDS if retry_after is None else retry_after)
    headers = limited_headers(sms_per_hour, math.ceil(time.time()) + wait, wait)
    error = GuardianError(word, "Injected fault", status, headers)  # Retry-After among them
    return InjectedError(error.status_code, error.body, word, None, error.headers)


class Faults:
    """The rules waiting to fire, and how many fired per endpoint."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self.fired: Counter[str] = Counter()

    def add(self, rules: list[FaultRule]) -> None:
        self._rules.extend(rules)

    def take(self, endpoint: str) -> FaultRule | None:
        for rule in self._rules:
            if rule.endpoint == endpoint:
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times == 0:
                        self._rules.remove(rule)
                self.fired[endpoint] += 1
                return rule
        return None

    def clear(self) -> None:
        self._rules.clear()
        self.fired.clear()

    def as_json(self) -> dict[str, Any]:
        return {"rules": [asdict(rule) for rule in self._rules], "fired": dict(self.fired)}


def _number(payload: Mapping[str, Any], key: str) -> float | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key} must be a number")
    if value < 0:
        raise ValueError(f"{key} must not be negative")
    return float(value)


def parse_rule(payload: Any) -> FaultRule:
    """Validate one rule; a ValueError says what is wrong with it."""
    if not isinstance(payload, dict):
        raise ValueError("a rule must be a JSON object")
    unknown = set(payload) - _KEYS
    if unknown:
        raise ValueError(f"unknown rule keys: {sorted(unknown)}")
    endpoint = payload.get("endpoint")
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {list(ENDPOINTS)}")
    times = payload.get("times", 1)
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise ValueError("times must be a positive integer, or null for until removed")
    status = payload.get("status")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise ValueError("status must be an HTTP error status (400-599)")
    code = payload.get("code")
    if code is not None and not isinstance(code, str | int):
        raise ValueError("code must be a string or an integer")
    if endpoint in AUTH0_ENDPOINTS:
        if code is not None and not (isinstance(code, str) and _WORD.fullmatch(code)):
            raise ValueError("an Auth0 code is a word such as invalid_otp")
    elif endpoint != "token" and code is not None and not str(code).isdigit():
        system = "an Identity Cloud" if endpoint in IDENTITY_CLOUD_ENDPOINTS else "a process API"
        raise ValueError(f"{system} code is a number")
    drop = payload.get("drop_connection", False)
    if not isinstance(drop, bool):
        raise ValueError("drop_connection must be true or false")
    rule = FaultRule(
        endpoint=endpoint,
        times=times,
        status=status,
        code=code,
        retry_after=_number(payload, "retry_after"),
        delay_seconds=_number(payload, "delay_seconds") or 0.0,
        drop_connection=drop,
    )
    if drop and rule.answers:
        raise ValueError("drop_connection handles the call: it takes no status or code")
    return rule


def parse_rules(payload: Any) -> list[FaultRule]:
    if isinstance(payload, dict) and "rules" in payload:
        rules = payload["rules"]
        if not isinstance(rules, list):
            raise ValueError("rules must be a list")
        return [parse_rule(rule) for rule in rules]
    return [parse_rule(payload)]


class DroppedAnswer(Response):
    """Starts an answer and never finishes it: uvicorn then closes the connection, and the
    client is left without a usable response after its request arrived."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
