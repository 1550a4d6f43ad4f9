"""The sandbox's HTTP surface: Unico's endpoints, Identity Cloud's entity API under
`/identity-cloud/`, Auth0's tenant under `/auth0/` and its Guardian under `/guardian/`, the
`/_sandbox/` admin endpoints, and one log line per request.

Unico's endpoints raise `TokenError` or `ProcessError`, Identity Cloud's `EntityError`,
Auth0's `AuthError` or `GuardianError`; `_endpoint` turns them into responses in the
system's envelope and keeps the counters that `GET /_sandbox/stats` shows. The log line
carries method, route template, HTTP status and error code only: never a CPF, a name, an
e-mail address, an image, a phone number, a code or a token.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.admin_json import settings_object
from sandbox.config import Runtime, SandboxConfig
from sandbox.faults import DroppedAnswer, FaultRule, Faults, InjectedError, parse_rules
from sandbox.guardian import parsing
from sandbox.guardian import settings as guardian_settings
from sandbox.guardian.enrollment_api import EnrollmentAPI
from sandbox.guardian.errors import AuthError, GuardianError
from sandbox.guardian.login import Login, LoginError, discovery, error_page, login_page
from sandbox.guardian.management import Management
from sandbox.guardian.tickets import TicketStore
from sandbox.identity_cloud.auth import ClientCredentials
from sandbox.identity_cloud.entity_api import EntityAPI, form_fields
from sandbox.identity_cloud.errors import EntityError
from sandbox.identity_cloud.ratelimit import check_rate
from sandbox.identity_cloud.store import EntityStore
from sandbox.unico.auth import TokenEndpoint, TokenError, TokenStore
from sandbox.unico.captures import CaptureDesk
from sandbox.unico.cpf_scenarios import scenario_for
from sandbox.unico.processes import Gate, ProcessError, ProcessStore, read_body, validate_create
from sandbox.unico.ratelimit import RateLimitMiddleware, TenantRateLimit
from sandbox.unico.webhooks import WebhookSender, parse_header, webhook_routes

logger = logging.getLogger("sandbox")

CODE_KEY = "sandbox.code"  # scope key: the handler's error code, for the log line
FORM = "application/x-www-form-urlencoded"

Answer = tuple[int, Mapping[str, Any]]


@dataclass(frozen=True)
class Reply:
    """An answer with headers of its own, or no body at all (204)."""

    status_code: int
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None


Handler = Callable[[Request], Awaitable[Answer | Reply]]


IDENTITY_CLOUD = "/identity-cloud"  # the prefix of the entity API's routes
AUTH0, GUARDIAN_PREFIX = "/auth0", "/guardian"  # the tenant's routes, Guardian's routes


class UnicoJSON(JSONResponse):
    media_type = "application/json; charset=utf-8"  # what Unico answers


class EntityJSON(JSONResponse):
    media_type = "application/json;charset=UTF-8"  # what the entity API answers


class Auth0JSON(JSONResponse):
    media_type = "application/json; charset=utf-8"  # what Auth0's APIs answer


class Stats:
    """Counts every request to each Unico, Identity Cloud and Auth0 endpoint, successful or
    not."""

    COUNTERS = (
        "token_requests",
        "tokens_issued",
        "create_requests",
        "processes_created",
        "get_requests",
        "entity_create_requests",
        "records_created",
        "entity_requests",
        "entity_find_requests",
        "auth0_token_requests",
        "ticket_requests",
        "start_flow_requests",
        "sms_enroll_requests",
        "sms_sent",
        "verify_otp_requests",
        "enrollments_confirmed",
    )

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()  # HTTP status of the answers
        self.by_code: Counter[str] = Counter()  # error codes answered (1.x.x and numeric)

    def as_json(self) -> dict[str, Any]:
        counts = {name: self.counts[name] for name in self.COUNTERS}
        return {**counts, "by_status": dict(self.by_status), "by_code": dict(self.by_code)}


class Sandbox:
    """The state every endpoint shares; `reset` empties it."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.runtime = Runtime.from_config(config)
        self.tokens = TokenStore()
        self.token_endpoint = TokenEndpoint(config, self.runtime, self.tokens)
        self.gate = Gate(self.tokens, config.api_key)
        self.processes = ProcessStore()
        self.captures = CaptureDesk()
        self.stats = Stats()
        self.faults = Faults()
        self.webhooks = WebhookSender(config.webhook_url, parse_header(config.webhook_header))
        self.rate_limit = TenantRateLimit(config.tenant_rate_limit, config.rate_burst)
        self.entities = EntityStore()
        self.entity_api = EntityAPI(
            self.entities, lambda: self.runtime.identity_cloud_find_lag_seconds
        )
        self.entity_credentials = ClientCredentials(
            config.identity_cloud_client_id, lambda: self.runtime.identity_cloud_client_secret
        )
        self.entity_rate_limit = TenantRateLimit(
            config.identity_cloud_rate_limit, config.identity_cloud_rate_burst
        )
        self.tickets = TicketStore()  # made by the tenant, spent by Guardian
        self.login = Login({config.console_client_id: config.console_client_secret})
        self.management = Management(config.auth0_client_id, self.runtime, self.tickets)
        self.guardian = EnrollmentAPI(self.runtime, self.tickets)

    def reset(self) -> None:
        self.faults.clear()
        self.tokens.clear()
        self.token_endpoint.reset()
        self.processes.clear()
        self.captures.reset()
        self.stats = Stats()
        self.webhooks.reset()
        self.rate_limit.reset()
        self.entities.reset()
        self.entity_rate_limit.reset()
        self.tickets.reset()
        self.management.reset()
        self.guardian.reset()


@dataclass(frozen=True)
class Envelope:
    """What differs between the systems' endpoints: the answer to a bug of ours, and the
    type of their JSON answers."""

    internal: Callable[[], TokenError | ProcessError | EntityError | AuthError | GuardianError]
    json: type[JSONResponse]


def _token_internal() -> TokenError:
    body = {"error": "server_error", "error_description": "Internal failure"}
    return TokenError(500, body, "server_error")


def _process_internal() -> ProcessError:
    return ProcessError(99999)


# A bug of ours answers as the system's internal failure does: the token endpoint's
# server_error, the process API's 99999, Identity Cloud's 500 unexpected_error, Auth0's
# 500 in its two envelopes.
TOKEN = Envelope(_token_internal, UnicoJSON)
PROCESS = Envelope(_process_internal, UnicoJSON)
ENTITY = Envelope(EntityError.internal, EntityJSON)
AUTH = Envelope(AuthError.internal, Auth0JSON)
GUARDIAN = Envelope(GuardianError.internal, Auth0JSON)


def _endpoint(
    sandbox: Sandbox,
    envelope: Envelope,
    fault_name: str,  # the endpoint a fault rule names
    counter: str,
    success_counter: str | None,
    handler: Handler,
    admit: Callable[[], None] | None = None,  # a rate limit that raises beyond it
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        stats = sandbox.stats
        stats.counts[counter] += 1
        fault: FaultRule | None = None
        headers: Mapping[str, str] | None = None  # Retry-After, x-ratelimit-*
        body: Mapping[str, Any] | str | None  # None: no content
        try:
            if admit is not None:
                admit()  # first: a call over the limit meets no fault rule
            fault = sandbox.faults.take(fault_name)
            if fault is not None:
                await fault.before_handling(sandbox.runtime.guardian_sms_per_hour)
            answer = await handler(request)
            if isinstance(answer, Reply):
                status_code, body, headers = answer.status_code, answer.body, answer.headers
            else:
                status_code, body = answer
        except (TokenError, ProcessError, EntityError, InjectedError) as exc:
            status_code, body, code = exc.status_code, exc.body, str(exc.code)
            headers = exc.headers if isinstance(exc, InjectedError) else None
        except (AuthError, GuardianError) as exc:
            status_code, body, code, headers = exc.status_code, exc.body, exc.code, exc.headers
        except Exception:
            logger.exception("unexpected error (%s)", counter)
            error = envelope.internal()
            status_code, body, code = error.status_code, error.body, str(error.code)
        else:
            code = ""
            if 200 <= status_code < 300 and success_counter:
                stats.counts[success_counter] += 1
        if code:
            stats.by_code[code] += 1
            request.scope[CODE_KEY] = code
        if fault is not None and not fault.answers:
            await fault.after_handling()
            if fault.drop_connection:
                stats.by_status["dropped"] += 1
                request.scope[CODE_KEY] = "dropped"  # for the log line
                return DroppedAnswer()
        stats.by_status[str(status_code)] += 1
        if body is None:
            return Response(status_code=status_code, headers=headers)
        if isinstance(body, str):  # a proxy's page in front of the service: not JSON
            return HTMLResponse(body, status_code, headers=headers)
        return envelope.json(body, status_code, headers=headers)

    return endpoint


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _unico_routes(sandbox: Sandbox) -> list[Route]:
    async def token(request: Request) -> Answer:
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
            raise TokenError.bad_request("invalid_request", f"the body must be {FORM}")
        form = await request.form()
        grant_type, assertion = _text(form.get("grant_type")), _text(form.get("assertion"))
        return 200, sandbox.token_endpoint.exchange(grant_type, assertion)

    async def create(request: Request) -> Answer:
        sandbox.gate.check(request.headers)
        body = await read_body(request, sandbox.config.max_body_bytes)
        required = sandbox.runtime.unico_capture_required
        cpf, capture = validate_create(body, sandbox.captures, required)
        delay = sandbox.runtime.async_delay_seconds
        spoof = capture is not None and capture.liveness == "spoof"
        created = sandbox.processes.create(cpf, delay, spoof=spoof)
        if capture is not None:
            sandbox.captures.spend(capture)
        later = None if spoof else scenario_for(cpf).later
        sandbox.webhooks.announce(created["id"], None if later is None else later["status"], delay)
        return 200, created

    async def get(request: Request) -> Answer:
        sandbox.gate.check(request.headers)
        return sandbox.processes.get(request.path_params["processId"])

    async def get_without_id(request: Request) -> Answer:
        sandbox.gate.check(request.headers)
        raise ProcessError(20023)

    def route(path: str, method: str, counter: str, done: str | None, handler: Handler) -> Route:
        envelope = TOKEN if counter == "token_requests" else PROCESS
        name = counter.removesuffix("_requests")  # the endpoint a fault rule names
        endpoint = _endpoint(sandbox, envelope, name, counter, done, handler)
        return Route(path, endpoint, methods=[method])

    return [
        route("/oauth2/token", "POST", "token_requests", "tokens_issued", token),
        route("/processes/v1", "POST", "create_requests", "processes_created", create),
        route("/processes/v1", "GET", "get_requests", None, get_without_id),
        route("/processes/v1/{processId}", "GET", "get_requests", None, get),
    ]


def _identity_cloud_routes(sandbox: Sandbox) -> list[Route]:
    api = sandbox.entity_api

    def operation(call: Callable[[Mapping[str, str]], dict[str, Any]]) -> Handler:
        # The order a real server can check in: the client, then the fields.
        async def handler(request: Request) -> Answer:
            fields = await form_fields(request)
            sandbox.entity_credentials.check(request.headers, fields)
            return 200, call(fields)

        return handler

    def route(name: str, methods: list[str], counter: str, done: str | None) -> Route:
        call = {"entity.create": api.create, "entity": api.read, "entity.find": api.find}[name]

        def admit() -> None:
            check_rate(sandbox.entity_rate_limit)

        endpoint = _endpoint(sandbox, ENTITY, name, counter, done, operation(call), admit)
        return Route(f"{IDENTITY_CLOUD}/{name}", endpoint, methods=methods)

    return [
        route("entity.create", ["POST"], "entity_create_requests", "records_created"),
        route("entity", ["GET", "POST"], "entity_requests", None),
        route("entity.find", ["GET", "POST"], "entity_find_requests", None),
    ]


def _origin(request: Request) -> str:
    """The scheme and host the call reached, as its client named them."""
    return f"{request.url.scheme}://{request.url.netloc}"


def _issuer(request: Request) -> str:
    """The tenant's URL as its ID tokens name it: Auth0's ends in a slash."""
    return f"{_origin(request)}{AUTH0}/"


def _login_routes(sandbox: Sandbox) -> list[Route]:
    """The pages and documents of a person's login (`sandbox/guardian/login.py`)."""
    login = sandbox.login

    async def authorize_page(request: Request) -> Response:
        try:
            asked = login.checked_request(request.query_params)
        except LoginError as exc:
            return HTMLResponse(error_page(str(exc)), status_code=exc.status_code)
        return HTMLResponse(login_page(asked))

    async def authorize_form(request: Request) -> Response:
        async with request.form() as form:
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
        try:
            asked = login.checked_request(fields)
        except LoginError as exc:
            return HTMLResponse(error_page(str(exc)), status_code=exc.status_code)
        back = login.sign_in(asked, fields.get("username", ""), fields.get("password", ""))
        if back is None:
            return HTMLResponse(login_page(asked, "Wrong email or password."), status_code=401)
        return RedirectResponse(back, status_code=302)

    async def configuration(request: Request) -> Response:
        return Auth0JSON(discovery(_issuer(request)))

    async def jwks(request: Request) -> Response:
        return Auth0JSON(login.jwks())

    async def logout(request: Request) -> Response:
        back = request.query_params.get("post_logout_redirect_uri") or request.query_params.get(
            "returnTo"
        )
        if back and login.allowed_callback(back):
            return RedirectResponse(back, status_code=302)
        return HTMLResponse(error_page("You are logged out."), status_code=200)

    return [
        Route(f"{AUTH0}/authorize", authorize_page, methods=["GET"]),
        Route(f"{AUTH0}/authorize", authorize_form, methods=["POST"]),
        Route(f"{AUTH0}/.well-known/openid-configuration", configuration, methods=["GET"]),
        Route(f"{AUTH0}/.well-known/jwks.json", jwks, methods=["GET"]),
        Route(f"{AUTH0}/oidc/logout", logout, methods=["GET"]),
    ]


def _auth0_routes(sandbox: Sandbox) -> list[Route]:
    management, guardian = sandbox.management, sandbox.guardian

    async def token(request: Request) -> Answer:
        fields = parsing.token_fields(request.headers, await request.body())
        if fields.get("grant_type") == "authorization_code":  # a person's login
            client = parsing.basic_client(request.headers)
            return 200, sandbox.login.exchange(fields, client, _issuer(request))
        return 200, management.issue_token(fields, f"{_origin(request)}{AUTH0}/api/v2/")

    async def ticket(request: Request) -> Answer:
        body = await request.body()
        return 200, management.create_ticket(request.headers, body, _origin(request))

    async def start_flow(request: Request) -> Answer:
        return 201, guardian.start_flow(request.headers, await request.body())

    async def sms_enroll(request: Request) -> Reply:
        device_id = request.path_params["id"]
        limits = guardian.sms_enroll(request.headers, device_id, await request.body())
        return Reply(204, headers=limits)

    async def verify_otp(request: Request) -> Reply:
        guardian.verify_otp(request.headers, await request.body())
        return Reply(204)

    def route(path: str, name: str, counter: str, done: str | None, handler: Handler) -> Route:
        envelope = AUTH if name == "auth0-token" else GUARDIAN
        endpoint = _endpoint(sandbox, envelope, name, counter, done, handler)
        return Route(path, endpoint, methods=["POST"])

    return [
        route(f"{AUTH0}/oauth/token", "auth0-token", "auth0_token_requests", None, token),
        route(
            f"{AUTH0}/api/v2/guardian/enrollments/ticket", "ticket", "ticket_requests", None, ticket
        ),
        route(
            f"{GUARDIAN_PREFIX}/api/start-flow",
            "start-flow",
            "start_flow_requests",
            None,
            start_flow,
        ),
        route(
            f"{GUARDIAN_PREFIX}/api/device-accounts/{{id}}/sms-enroll",
            "sms-enroll",
            "sms_enroll_requests",
            "sms_sent",
            sms_enroll,
        ),
        route(
            f"{GUARDIAN_PREFIX}/api/verify-otp",
            "verify-otp",
            "verify_otp_requests",
            "enrollments_confirmed",
            verify_otp,
        ),
    ]


def _admin_routes(sandbox: Sandbox) -> list[Route]:
    def settings() -> dict[str, Any]:
        runtime = sandbox.runtime
        rotated = (
            runtime.identity_cloud_client_secret != sandbox.config.identity_cloud_client_secret
        )
        return {
            "async_delay_seconds": runtime.async_delay_seconds,
            "token_lifetime_seconds": runtime.token_lifetime_seconds,
            "identity_cloud_find_lag_seconds": runtime.identity_cloud_find_lag_seconds,
            # Whether a secret was rotated, never the secret itself.
            "identity_cloud_client_secret_changed": rotated,
            "auth0_client_secret_changed": (
                runtime.auth0_client_secret != sandbox.config.auth0_client_secret
            ),
            **{name: getattr(runtime, name) for name in guardian_settings.SHOWN},
        }

    async def health(request: Request) -> Response:
        return UnicoJSON({"ok": True})

    async def stats(request: Request) -> Response:
        return UnicoJSON(sandbox.stats.as_json())

    async def rate_limit(request: Request) -> Response:
        limits = {
            **sandbox.rate_limit.as_json(),
            "identity_cloud": sandbox.entity_rate_limit.as_json(),
        }
        return UnicoJSON(limits)

    async def records(request: Request) -> Response:
        return UnicoJSON({"records": sandbox.entities.records()})

    async def sms(request: Request) -> Response:
        phone = request.query_params.get("phone")
        return UnicoJSON({"messages": sandbox.guardian.inbox.as_json(phone)})

    async def enrollments(request: Request) -> Response:
        return UnicoJSON({"enrollments": sandbox.guardian.enrollments.as_json()})

    async def transactions(request: Request) -> Response:
        return UnicoJSON({"transactions": sandbox.guardian.transactions.as_json()})

    async def reset(request: Request) -> Response:
        sandbox.reset()
        return UnicoJSON({"ok": True})

    async def config(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = _config_changes(await request.body())
            except ValueError as exc:
                return UnicoJSON({"error": str(exc)}, 400)
            for name, value in changes.items():
                setattr(sandbox.runtime, name, value)
        return UnicoJSON(settings())

    async def captures(request: Request) -> Response:
        """The capture SDK's stand-in: `{"image_base64", "liveness"?, "age_seconds"?}`."""
        try:
            image, liveness, age = _capture_order(await request.body())
            return UnicoJSON(sandbox.captures.seal(image, liveness, age))
        except ValueError as exc:
            return UnicoJSON({"error": str(exc)}, 400)

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                sandbox.faults.add(parse_rules(json.loads(await request.body() or b"null")))
            except ValueError as exc:
                return UnicoJSON({"error": str(exc)}, 400)
        elif request.method == "DELETE":
            sandbox.faults.clear()
        return UnicoJSON(sandbox.faults.as_json())

    return [
        Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/health", health, methods=["GET"]),
        Route("/_sandbox/stats", stats, methods=["GET"]),
        Route("/_sandbox/rate-limit", rate_limit, methods=["GET"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/config", config, methods=["GET", "POST"]),
        Route("/_sandbox/captures", captures, methods=["POST"]),
        Route("/_sandbox/identity-cloud/records", records, methods=["GET"]),
        Route("/_sandbox/guardian/sms", sms, methods=["GET"]),
        Route("/_sandbox/guardian/enrollments", enrollments, methods=["GET"]),
        Route("/_sandbox/guardian/transactions", transactions, methods=["GET"]),
    ]


CONFIG_KEYS = (
    "async_delay_seconds",
    "unico_capture_required",
    "token_lifetime_seconds",
    "identity_cloud_client_secret",
    "identity_cloud_find_lag_seconds",
    *guardian_settings.KEYS,
)
_FLOATS = {"async_delay_seconds", "identity_cloud_find_lag_seconds"}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _config_changes(body: bytes) -> dict[str, Any]:
    """Validate `{"async_delay_seconds"?: float, "token_lifetime_seconds"?: int,
    "identity_cloud_client_secret"?: str, "identity_cloud_find_lag_seconds"?: float}` and
    the Auth0 settings (`sandbox.guardian.settings`)."""
    payload = settings_object(body, CONFIG_KEYS)
    delay = payload.get("async_delay_seconds", 0.0)
    lifetime = payload.get("token_lifetime_seconds", 0)
    lag = payload.get("identity_cloud_find_lag_seconds", 0.0)
    secret = payload.get("identity_cloud_client_secret", "unchanged")
    if not _is_number(delay):
        raise ValueError("async_delay_seconds must be a number")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int):
        raise ValueError("token_lifetime_seconds must be an integer")
    if not _is_number(lag):
        raise ValueError("identity_cloud_find_lag_seconds must be a number")
    if not isinstance(secret, str) or not secret:
        raise ValueError("identity_cloud_client_secret must be a non-empty string")
    if not isinstance(payload.get("unico_capture_required", False), bool):
        raise ValueError("unico_capture_required must be true or false")
    if delay < 0 or lifetime < 0 or lag < 0:
        raise ValueError("settings must not be negative")
    auth0 = guardian_settings.changes(payload)
    return {**{k: float(v) if k in _FLOATS else v for k, v in payload.items()}, **auth0}


def _capture_order(body: bytes) -> tuple[str, str, float]:
    try:
        order = json.loads(body or b"null")
    except ValueError:
        raise ValueError("send JSON: {image_base64, liveness?, age_seconds?}") from None
    if not isinstance(order, dict) or set(order) - {"image_base64", "liveness", "age_seconds"}:
        raise ValueError("send JSON: {image_base64, liveness?, age_seconds?}")
    image, liveness = order.get("image_base64"), order.get("liveness", "live")
    age = order.get("age_seconds", 0)
    if not isinstance(image, str) or not image:
        raise ValueError("image_base64 must be the image, in base64")
    if not isinstance(liveness, str):
        raise ValueError('liveness must be "live" or "spoof"')
    if not _is_number(age) or age < 0:
        raise ValueError("age_seconds must be a number, 0 or more")
    return image, liveness, float(age)


class RequestLog:
    """One line per request: method, route template, status, error code, duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # The template, not the path: a path may carry anything a client put in it.
            path = getattr(scope.get("route"), "path", "<no route>")
            code = scope.get(CODE_KEY)
            ms = (time.perf_counter() - started) * 1000
            suffix = f" code={code}" if code else ""
            logger.info("%s %s %d%s %.1fms", scope["method"], path, status, suffix, ms)


def create_app(config: SandboxConfig) -> Starlette:
    sandbox = Sandbox(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await sandbox.webhooks.close()  # no delivery outlives the server

    routes = [
        *_unico_routes(sandbox),
        *_identity_cloud_routes(sandbox),
        *_auth0_routes(sandbox),
        *_login_routes(sandbox),
        *_admin_routes(sandbox),
        *webhook_routes(sandbox.webhooks),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestLog),
            Middleware(RateLimitMiddleware, limit=sandbox.rate_limit),
        ],
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox  # for debugging; tests go through HTTP
    return app
