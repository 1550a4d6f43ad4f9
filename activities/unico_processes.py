"""The Unico side effects: inspect the selfie, get a token, create and read processes.

One `UnicoActivities` per worker holds the pooled HTTP client, the token cache and the
selfie store; its bound methods are the activities that the workflow calls by name. The
create and the read that settle a process release its selfie on the way out
(`SelfieCleanup.release_settled`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.call_telemetry import unico_call
from activities.errors import (
    application_error,
    classify,
    parse_error,
    raise_for_transport,
    retry_after,
)
from activities.selfies.backend import SelfieBackend, SelfieNotFound, SelfieReleased
from activities.selfies.cleanup import SelfieCleanup
from activities.selfies.inspection import inspect_image
from activities.unico_auth import TokenCache
from workflows.error_classes import ErrorClass
from workflows.models import (
    CreateProcessInput,
    OpenedProcess,
    ReadProcess,
    ReadProcessInput,
    SelfieCheck,
    SelfieRelease,
    TokenInfo,
    UnicoProcess,
)
from workflows.names import (
    ACQUIRE_TOKEN,
    CREATE_PROCESS,
    GET_PROCESS,
    INSPECT_SELFIE,
    OPEN_PROCESS,
    READ_PROCESS,
)

PROCESS_PATH = "/processes/v1"
PROCESS_ROUTE = PROCESS_PATH + "/{processId}"  # the template: a metric label holds no id
SYSTEM = "unico-process"


class UnicoActivities:
    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenCache,
        selfies: SelfieBackend,
        api_url: str,
        api_key: str,
        *,
        cleanup: SelfieCleanup | None = None,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._selfies = selfies
        self._api_url = api_url.rstrip("/")
        self._api_key = api_key
        self.cleanup = cleanup or SelfieCleanup(selfies, retention_seconds=0)

    def releasing_with(self, cleanup: SelfieCleanup) -> UnicoActivities:
        """The same client, token cache and store; the selfie's end as `cleanup` says
        (its retention period), so the worker's two releases never disagree."""
        activities = copy.copy(self)
        activities.cleanup = cleanup
        return activities

    def all(self) -> Sequence[Callable[..., Any]]:
        return [self.inspect_selfie, self.acquire_token, *self.process_api()]

    def process_api(self) -> Sequence[Callable[..., Any]]:
        """The activities that spend Unico's request budget (`UNICO_API_ACTIVITIES`)."""
        return [self.create_process, self.open_process, self.get_process, self.read_process]

    @property
    def tokens(self) -> TokenCache:
        return self._tokens

    @property
    def selfies(self) -> SelfieBackend:
        return self._selfies

    @activity.defn(name=INSPECT_SELFIE)
    async def inspect_selfie(self, selfie_ref: str) -> SelfieCheck:
        """Check the image as Unico would (format, size, resolution) before any call."""
        return (await self._read_and_check(selfie_ref))[0]

    async def _read_and_check(self, selfie_ref: str) -> tuple[SelfieCheck, bytes | None]:
        """The image's check, and the image when there is one."""
        try:
            # The store may be a network service (S3): keep the event loop free.
            data = await asyncio.to_thread(self._selfies.get, selfie_ref)
        except SelfieReleased:
            raise
        except SelfieNotFound:
            missing = SelfieCheck(ok=False, code=20009, message="no selfie stored under selfie_ref")
            return missing, None
        return inspect_image(data), data

    @activity.defn(name=ACQUIRE_TOKEN)
    async def acquire_token(self, force_refresh: bool = False) -> TokenInfo:
        return await self._tokens.info(force_refresh=force_refresh)

    @activity.defn(name=OPEN_PROCESS)
    async def open_process(self, request: CreateProcessInput) -> OpenedProcess:
        """The selfie checked as Unico would, then the create (a token from the worker's
        cache on the way): one activity, and still nothing reaches Unico for an image that
        Unico would refuse. The refusal keeps its code; errors keep their classes."""
        try:
            check, image = await self._read_and_check(request.selfie_ref)
        except SelfieReleased as released:
            # This create answered before, settled, released the selfie, and its answer was
            # lost: the process is Unico's already, so read it instead of creating another.
            process = await self._get(released.process_id)
            return OpenedProcess(process=process, release=SelfieRelease(deleted=True))
        if not check.ok or image is None:
            return OpenedProcess(refused=check)
        process = await self._create(request, image)
        release = None
        if request.release_when_settled:
            release = await self.cleanup.release_settled(request.selfie_ref, process)
        return OpenedProcess(process=process, release=release)

    @activity.defn(name=CREATE_PROCESS)
    async def create_process(self, request: CreateProcessInput) -> UnicoProcess:
        try:
            image = await asyncio.to_thread(self._selfies.get, request.selfie_ref)
        except SelfieNotFound:
            raise ApplicationError(
                "the selfie is no longer in the store",
                type=ErrorClass.INVALID_REQUEST.value,
            ) from None
        return await self._create(request, image)

    async def _create(self, request: CreateProcessInput, image: bytes) -> UnicoProcess:
        subject = request.subject.model_dump(exclude_none=True)
        body: dict[str, Any] = {
            "subject": subject,
            "useCase": request.use_case,
            "imageBase64": base64.b64encode(image).decode("ascii"),
        }
        if request.subsidiary_id:
            body["subsidiaryId"] = request.subsidiary_id
        with unico_call(SYSTEM, "POST", PROCESS_PATH) as call:
            return call.returned(await self._call("POST", PROCESS_PATH, json=body))

    @activity.defn(name=GET_PROCESS)
    async def get_process(self, process_id: str) -> UnicoProcess:
        return await self._get(process_id)

    @activity.defn(name=READ_PROCESS)
    async def read_process(self, request: ReadProcessInput) -> ReadProcess:
        """The read; an answer that settles the process releases the selfie too."""
        process = await self._get(request.process_id)
        release = await self.cleanup.release_settled(request.selfie_ref, process)
        return ReadProcess(process=process, release=release)

    async def _get(self, process_id: str) -> UnicoProcess:
        with unico_call(SYSTEM, "GET", PROCESS_ROUTE) as call:
            return call.returned(await self._call("GET", f"{PROCESS_PATH}/{process_id}"))

    async def _call(self, method: str, path: str, json: Any = None) -> UnicoProcess:
        token = await self._tokens.token()
        headers = {"Authorization": f"Bearer {token}", "APIKEY": self._api_key}
        try:
            response = await self._http.request(
                method, self._api_url + path, json=json, headers=headers
            )
        except httpx.TransportError as exc:
            # POST /processes/v1 is not idempotent: no blind retry once it may have arrived.
            raise_for_transport(SYSTEM, exc, idempotent=method != "POST")
        if response.status_code == 200:
            # A 200 that is no process falls through to the classifier (fallback, bounded).
            with contextlib.suppress(ValueError):
                return UnicoProcess.model_validate(response.json())
        details = parse_error(SYSTEM, response)
        if classify(details.system, details.code, details.http_status) is ErrorClass.TOKEN_EXPIRED:
            # A refused token must not be served again, to this or any other onboarding.
            self._tokens.invalidate(token)
        raise application_error(details, next_retry_delay=retry_after(response))
