"""Unico's process API: create a process (`open_process`) and read it (`read_process`).

One `UnicoActivities` per worker holds the pooled HTTP client, the token cache and the
selfie store; its bound methods are the activities. Nothing reaches Unico for an image that
Unico would refuse: the create first checks the selfie as Unico would. The create and the
read that settle a process release its selfie on the way out (`SelfieCleanup.release_settled`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import (
    application_error,
    classify,
    parse_error,
    raise_for_transport,
    retry_after,
    with_unanswered_creates,
)
from activities.heartbeats import heartbeating
from activities.selfies.backend import (
    InvalidSelfieRef,
    SelfieBackend,
    SelfieNotFound,
    SelfieReleased,
)
from activities.selfies.claims import SelfieClaims, owner_of
from activities.selfies.cleanup import SelfieCleanup
from activities.selfies.inspection import inspect_selfie
from activities.telemetry import RemoteCall, remote_call
from activities.unico.auth import TokenCache
from activities.unico.errors import TELEMETRY, UNICO_PROCESS
from contracts.activity import implements
from contracts.selfies import SelfieRelease
from contracts.unico import (
    CreateProcessInput,
    OpenedProcess,
    ReadProcess,
    ReadProcessInput,
    SelfieCheck,
    UnicoProcess,
    open_process,
    read_process,
)
from onboarding_client.contract.errors import ErrorClass

PROCESS_PATH = "/processes/v1"
PROCESS_ROUTE = PROCESS_PATH + "/{processId}"  # the template: a metric label holds no id
# A capture is good for 10 minutes (10507 after); half a minute is kept for the create's way.
CAPTURE_SENDABLE_SECONDS = 600 - 30
CAPTURE_TOO_OLD = SelfieCheck(
    ok=False, code=10507, message="the capture is past its 10 minutes: capture again"
)
PLAIN_IMAGE_REFUSED = SelfieCheck(
    ok=False,
    code=10506,
    message="this deployment demands a capture of Unico's SDK (UNICO_CAPTURE_REQUIRED)",
)
NO_SELFIE = SelfieCheck(ok=False, code=20009, message="no selfie stored under selfie_ref")
# A selfie_ref that another onboarding claimed: to this one, as if no selfie were there.
NOT_THEIRS = SelfieCheck(
    ok=False, code=20009, message="the selfie under selfie_ref belongs to another onboarding"
)

logger = logging.getLogger("activities.unico.processes")


class UnicoActivities:
    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenCache,
        selfies: SelfieBackend,
        api_url: str,
        api_key: str,
        cleanup: SelfieCleanup,
        capture_required: bool = False,
        webhook_wait: float | None = None,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._selfies = selfies
        self._api_url = api_url.rstrip("/")
        self._api_key = api_key
        self._cleanup = cleanup
        self._claims = SelfieClaims(selfies)
        self._capture_required = capture_required
        self._webhook_wait = webhook_wait

    def all(self) -> Sequence[Callable[..., Any]]:
        """The activities, each of which spends Unico's budget of requests."""
        return [self.open_process, self.read_process]

    @property
    def tokens(self) -> TokenCache:
        return self._tokens

    @implements(open_process)
    async def open_process(self, request: CreateProcessInput) -> OpenedProcess:
        """The selfie checked as Unico would, then the create (a token from the worker's
        cache on the way): one activity, and still nothing reaches Unico for an image that
        Unico would refuse. The refusal keeps its code; errors keep their classes."""
        ref, owner = request.selfie_ref, owner_of(activity.info().workflow_id)
        try:
            earlier = await self._claims.take(ref, owner)
        except InvalidSelfieRef:  # no ref of this store: it names no selfie
            return OpenedProcess(refused=NO_SELFIE)
        if earlier is None:
            return OpenedProcess(refused=NOT_THEIRS)
        async with heartbeating():
            try:
                check, image = await self._read_and_check(ref)
            except SelfieReleased as released:
                # This create answered before, settled, released the selfie, and its answer
                # was lost: the process is Unico's already; read it instead of creating.
                process = await self._get(released.process_id)
                await self._claims.count(ref, owner, 0)
                return OpenedProcess(
                    process=process,
                    release=SelfieRelease(deleted=True),
                    unanswered_creates=earlier,
                )
            if not check.ok or image is None:
                await self._claims.count(ref, owner, 0)
                return OpenedProcess(refused=check, unanswered_creates=earlier)
            token = await self._tokens.token()  # a death while getting it sends nothing
            # Counted before it leaves: if this worker dies with it out, the next attempt
            # knows that Unico may hold a process for it.
            await self._claims.count(ref, owner, earlier + 1)
            try:
                process = await self._create(request, image, check.capture, token)
            except ApplicationError as failed:
                # Unico answered, or the workflow counts the lost answer itself; the earlier
                # lost ones ride on the error, in case it ends the onboarding (10508).
                await self._claims.count(ref, owner, earlier)
                raise with_unanswered_creates(failed, earlier) from failed.__cause__
            if process.is_final:
                await self._claims.count(ref, owner, 0)
            # else the read that follows uncounts it (`read_process`): a worker that dies
            # before the workflow hears of this answer leaves the create counted, and the
            # retry reports it instead of hiding the process it made.
            release = await self._cleanup.release_settled(ref, process, request.keep_evidence)
        kind = "capture" if check.capture else "image"
        return OpenedProcess(
            process=process,
            release=release,
            unanswered_creates=earlier,
            selfie_kind=kind,
            first_read_after_seconds=None if process.is_final else self._webhook_wait,
        )

    @implements(read_process)
    async def read_process(self, request: ReadProcessInput) -> ReadProcess:
        """The read; an answer that settles the process releases the selfie too. The
        workflow reads only a process whose create it heard: that create is no longer out."""
        try:
            await self._claims.uncount(request.selfie_ref, owner_of(activity.info().workflow_id))
        except Exception:  # the store's failure must not fail the read: one more reported
            logger.warning("the selfie's claim kept a create counted: its store failed")
        async with heartbeating():
            process = await self._get(request.process_id)
            release = await self._cleanup.release_settled(
                request.selfie_ref, process, request.keep_evidence
            )
        return ReadProcess(process=process, release=release)

    async def _read_and_check(self, selfie_ref: str) -> tuple[SelfieCheck, bytes | None]:
        """The image's check, and the image when there is one."""
        try:
            # The store may be a network service (S3): keep the event loop free.
            data = await asyncio.to_thread(self._selfies.get, selfie_ref)
        except SelfieReleased:
            raise
        except SelfieNotFound:
            return NO_SELFIE, None
        check = inspect_selfie(data)
        if check.ok and not check.capture and self._capture_required:
            return PLAIN_IMAGE_REFUSED, None
        if check.ok and check.capture and await self._capture_too_old(selfie_ref):
            return CAPTURE_TOO_OLD, None
        return check, data

    async def _capture_too_old(self, selfie_ref: str) -> bool:
        """Past its 10 minutes by the time a create could reach Unico: reckoned from when
        the store took it (the app uploads it as soon as the SDK made it)."""
        stored_at = await asyncio.to_thread(self._selfies.stored_at, selfie_ref)
        return time.time() - stored_at > CAPTURE_SENDABLE_SECONDS

    async def _create(
        self, request: CreateProcessInput, image: bytes, capture: bool, token: str
    ) -> UnicoProcess:
        subject = request.subject.model_dump(exclude_none=True)
        # The SDK's capture goes as it is (sealed for Unico); a plain image, in base64.
        sent = image.strip().decode("ascii") if capture else base64.b64encode(image).decode()
        body: dict[str, Any] = {
            "subject": subject,
            "useCase": request.use_case,
            "imageBase64": sent,
        }
        if request.subsidiary_id:
            body["subsidiaryId"] = request.subsidiary_id
        with remote_call(TELEMETRY, UNICO_PROCESS.name, "POST", PROCESS_PATH) as call:
            return _returned(call, await self._call("POST", PROCESS_PATH, body, token))

    async def _get(self, process_id: str) -> UnicoProcess:
        with remote_call(TELEMETRY, UNICO_PROCESS.name, "GET", PROCESS_ROUTE) as call:
            return _returned(call, await self._call("GET", f"{PROCESS_PATH}/{process_id}"))

    async def _call(
        self, method: str, path: str, json: Any = None, token: str | None = None
    ) -> UnicoProcess:
        token = token or await self._tokens.token()
        headers = {"Authorization": f"Bearer {token}", "APIKEY": self._api_key}
        try:
            response = await self._http.request(
                method, self._api_url + path, json=json, headers=headers
            )
        except httpx.TransportError as exc:
            # POST /processes/v1 is not idempotent: no blind retry once it may have arrived.
            raise_for_transport(UNICO_PROCESS.name, exc, idempotent=method != "POST")
        if response.status_code == 200:
            # A 200 that is no process falls through to the classifier (fallback, bounded).
            with contextlib.suppress(ValueError):
                return UnicoProcess.model_validate(response.json())
        details = parse_error(UNICO_PROCESS, response)
        if classify(UNICO_PROCESS, details.code, details.http_status) is ErrorClass.TOKEN_EXPIRED:
            # A refused token must not be served again, to this or any other onboarding: the
            # workflow calls again, and the next attempt gets a new one.
            self._tokens.invalidate(token)
        raise application_error(UNICO_PROCESS, details, next_retry_delay=retry_after(response))


def _returned(call: RemoteCall, process: UnicoProcess) -> UnicoProcess:
    """The process API answered 200 with this process: its id and status go on the span."""
    call.answered(200)
    call.span.set_attribute("unico.process_id", process.id)
    call.span.set_attribute("unico.status", process.status)
    return process
