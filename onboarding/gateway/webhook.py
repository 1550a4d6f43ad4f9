"""`POST /webhooks/unico`: Unico says a process finished; wake the onboarding waiting on it.

The notification is only a hint (the by Client payload is undocumented and unsigned):
the receiver finds the onboarding by its `UnicoProcessId` search attribute and signals
`unico_webhook`; the workflow then reads the result with `read_process`. So a duplicate
costs at most one extra read, and a stale or early one changes nothing.

Answers, chosen so that Unico's retries (any non-2xx, with backoff) do the right thing:

- 202: a running onboarding was signaled.
- 200: the onboarding already ended; there is nothing to wake.
- 401: missing or wrong credentials; nothing is looked up or signaled.
- 400 or 413: not a notification, or too large; a retry cannot fix it.
- 503 with Retry-After: no onboarding (yet) carries the process id, because the search
  index lags a moment behind the workflow; or Temporal is unreachable.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from onboarding.gateway.webhook_auth import WebhookAuth
from onboarding_client.contract.names import WEBHOOK_SIGNAL, WORKFLOW_TYPE

logger = logging.getLogger("onboarding.gateway.webhook")

WEBHOOK_PATH = "/webhooks/unico"
MAX_BODY_BYTES = 64 * 1024
# Unico's process ids are UUIDs; the pattern also keeps the visibility query injection-free.
PROCESS_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
STATE = re.compile(r"[A-Za-z_ -]{1,32}")
MAX_MATCHES = 10  # one process id names one onboarding; a few runs at most


class _Refused(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


def query_for(process_id: str) -> str:
    return f"WorkflowType = '{WORKFLOW_TYPE}' AND UnicoProcessId = '{process_id}'"


def notification_from(body: bytes) -> dict[str, str]:
    """The part of Unico's body the workflow may see: the process id and a short state.

    Anything else Unico adds stays out of the workflow's history.
    """
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise _Refused(400, "the body must be JSON") from None
    process_id = payload.get("processId") if isinstance(payload, dict) else None
    if not isinstance(process_id, str) or not PROCESS_ID.fullmatch(process_id):
        raise _Refused(400, "the body needs a processId (letters, digits, '-' or '_')")
    notification = {"processId": process_id}
    state = payload.get("state")
    if isinstance(state, str) and STATE.fullmatch(state):
        notification["state"] = state
    return notification


class WebhookReceiver:
    def __init__(self, auth: WebhookAuth, temporal: Client, retry_after_seconds: int) -> None:
        self._auth = auth
        self._temporal = temporal
        self._retry_after = {"Retry-After": str(retry_after_seconds)}

    async def __call__(self, request: Request) -> JSONResponse:
        if not self._auth.accepts(request.headers):
            logger.info("webhook refused: no valid credentials")
            return JSONResponse({"error": "unauthorized"}, 401, headers=self._auth.challenge)
        try:
            notification = notification_from(await _bounded_body(request))
        except _Refused as exc:
            return JSONResponse({"error": str(exc)}, exc.status_code)
        process_id = notification["processId"]
        try:
            running, closed = await self._find(process_id)
            signaled = [wid for wid in running if await self._signal(wid, notification)]
        except RPCError as exc:
            logger.warning("webhook %s: Temporal answered %s", process_id, exc.status)
            return self._retry_later("temporal_unavailable")
        except RuntimeError:  # the client could not connect at all
            logger.warning("webhook %s: Temporal is unreachable", process_id)
            return self._retry_later("temporal_unavailable")
        logger.info(
            "webhook %s: signaled %d, already decided %d", process_id, len(signaled), len(closed)
        )
        if signaled:
            return JSONResponse({"status": "signaled", "onboardings": len(signaled)}, 202)
        if closed or running:  # the onboarding ended between the lookup and the signal
            return JSONResponse({"status": "already_decided"}, 200)
        return self._retry_later("unknown_process")

    async def _find(self, process_id: str) -> tuple[set[str], set[str]]:
        """Workflow ids of the runs carrying this process id: running, and closed."""
        running: set[str] = set()
        closed: set[str] = set()
        async for execution in self._temporal.list_workflows(
            query_for(process_id), limit=MAX_MATCHES
        ):
            is_running = execution.status == WorkflowExecutionStatus.RUNNING
            (running if is_running else closed).add(execution.id)
        return running, closed - running  # an earlier run continued-as-new: not closed

    async def _signal(self, workflow_id: str, notification: dict[str, Any]) -> bool:
        handle = self._temporal.get_workflow_handle(workflow_id)
        try:
            await handle.signal(WEBHOOK_SIGNAL, notification)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False  # it closed in the meantime
            raise
        return True

    def _retry_later(self, status: str) -> JSONResponse:
        return JSONResponse({"status": status}, 503, headers=self._retry_after)


async def _bounded_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _Refused(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_route(receiver: WebhookReceiver) -> Route:
    async def unico_webhook(request: Request) -> Response:
        return await receiver(request)

    return Route(WEBHOOK_PATH, unico_webhook, methods=["POST"])
