"""The by Client process API: `POST /processes/v1` and `GET /processes/v1/{processId}`.

Codes, descriptions and the order of the checks follow seed 004: credentials first (bearer
token, then APIKEY), then the body, field by field, then the image.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request

from sandbox.unico.auth import TokenState, TokenStore
from sandbox.unico.captures import (
    CAPTURE_REQUIRED,
    Capture,
    CaptureDesk,
    CaptureError,
    looks_like_capture,
)
from sandbox.unico.cpf_scenarios import Scenario, scenario_for
from sandbox.unico.images import image_error

# code -> (HTTP status, description from seed 004)
ERRORS: Mapping[int, tuple[int, str]] = {
    10201: (403, "O AppKey informado é inválido."),
    10501: (401, "O token informado é inválido."),
    10502: (401, "O token informado está expirado."),
    20001: (401, "O parâmetro authtoken não foi informado."),
    20002: (400, "O parâmetro APIKey não foi informado."),
    20003: (400, "The request body is missing or invalid."),
    20004: (400, "O parâmetro subject não foi informado."),
    20005: (400, "O parâmetro subject.code não foi informado."),
    20006: (400, "O parâmetro subject.name não foi informado."),
    20009: (400, "O parâmetro imagebase64 não foi informado."),
    20023: (400, "O parâmetro processId não foi informado."),
    20505: (400, "O base64 informado não é suportado. Os formatos aceitos são png, jpeg e webp."),
    20506: (400, "O base64 informado é muito grande. O tamanho máximo suportado é até 800kb."),
    20507: (400, "O parâmetro subject.code é inválido."),
    20807: (
        400,
        "A imagem precisa estar no padrão HD ou possuir uma resolução superior a 640 x 480.",
    ),
    20900: (400, "O base64 informado não é válido."),
    10506: (
        403,
        "Bundle inválido. APIKEY usa um método de segurança e esta solicitação não atende aos "
        "requisitos de segurança (SDK).",
    ),
    10507: (400, "JWT expirado. O .jwt deve ser enviado em até 10 minutos."),
    10508: (400, "O .jwt só pode ser usado uma única vez."),
    30017: (401, "Jwt header is an invalid JSON."),
    50001: (404, "O processo informado não foi encontrado."),
    99999: (500, "Internal failure! Try again later"),
}

_BEARER = re.compile(r"Bearer +([A-Za-z0-9._~+/=-]+)", re.IGNORECASE)


class ProcessError(Exception):
    """A coded error of the process API: `{"error": {"code", "description"}}`."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code
        self.status_code, description = ERRORS[code]
        self.body = {"error": {"code": code, "description": description}}


class Gate:
    """The credentials every process call carries: bearer token and APIKEY."""

    def __init__(self, tokens: TokenStore, api_key: str) -> None:
        self._tokens, self._api_key = tokens, api_key

    def check(self, headers: Headers) -> None:
        authorization = headers.get("authorization", "").strip()
        if not authorization:
            raise ProcessError(20001)
        match = _BEARER.fullmatch(authorization)
        if match is None:
            raise ProcessError(30017)  # "access-token contém caracteres errados"
        state = self._tokens.state(match.group(1))
        if state is TokenState.UNKNOWN:
            raise ProcessError(10501)
        if state is TokenState.EXPIRED:
            raise ProcessError(10502)
        api_key = headers.get("apikey", "")
        if not api_key:
            raise ProcessError(20002)
        if not secrets.compare_digest(api_key.encode(), self._api_key.encode()):
            raise ProcessError(10201)


def valid_cpf(cpf: str) -> bool:
    """11 digits, not all equal, and both check digits right (mod 11)."""
    if len(cpf) != 11 or not cpf.isascii() or not cpf.isdigit() or len(set(cpf)) == 1:
        return False
    digits = [int(c) for c in cpf]
    for n in (9, 10):
        total = sum(d * (n + 1 - i) for i, d in enumerate(digits[:n]))
        if total * 10 % 11 % 10 != digits[n]:
            return False
    return True


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read with a cap: a body past `limit` cannot hold an image under 800 KB."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProcessError(20506)
        chunks.append(chunk)
    return b"".join(chunks)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_create(
    body: bytes, captures: CaptureDesk, capture_required: bool = False
) -> tuple[str, Capture | None]:
    """Check a create request as Unico does; answer the subject's CPF, and the SDK's
    capture when `imageBase64` is one (None: a plain image)."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise ProcessError(20003) from None
    if not isinstance(payload, dict):
        raise ProcessError(20003)
    subject = payload.get("subject")
    if not isinstance(subject, dict):
        raise ProcessError(20004)
    code, name, image = subject.get("code"), subject.get("name"), payload.get("imageBase64")
    if _missing(code):
        raise ProcessError(20005)
    if _missing(name) or not isinstance(name, str):
        raise ProcessError(20006)
    if _missing(image):
        raise ProcessError(20009)
    if not isinstance(code, str) or not valid_cpf(code):
        raise ProcessError(20507)
    if not isinstance(image, str):
        raise ProcessError(20900)
    capture = None
    if looks_like_capture(image):
        try:
            capture = captures.open(image)
        except CaptureError as refused:
            raise ProcessError(refused.code) from None
        image = capture.image_base64
    elif capture_required:
        raise ProcessError(CAPTURE_REQUIRED)
    error = image_error(image)
    if error is not None:
        raise ProcessError(error)
    return code, capture


SPOOFED = Scenario(created={"status": 3, "unicoId": {"result": "inconclusive"}, "liveness": 2})


@dataclass(frozen=True)
class _Process:
    scenario: Scenario
    ready_at: float  # monotonic time from which GET shows `scenario.later`


class ProcessStore:
    """Created processes; an async one turns final `delay` seconds after its creation."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._processes: dict[str, _Process] = {}

    def create(self, cpf: str, delay_seconds: float, spoof: bool = False) -> dict[str, Any]:
        process_id = str(uuid.uuid4())
        # A spoofed capture fails liveness whatever the CPF: final at once, liveness 2.
        scenario = SPOOFED if spoof else scenario_for(cpf)
        self._processes[process_id] = _Process(scenario, self._clock() + delay_seconds)
        return {"id": process_id, **scenario.created}

    def get(self, process_id: str) -> tuple[int, dict[str, Any]]:
        """HTTP status and body of a GET; a process in status 5 answers 410 (seed 004)."""
        process = self._processes.get(process_id)
        if process is None:
            raise ProcessError(50001)
        view = process.scenario.created
        if process.scenario.later is not None and self._clock() >= process.ready_at:
            view = process.scenario.later
        return (410 if view["status"] == 5 else 200), {"id": process_id, **view}

    def clear(self) -> None:
        self._processes.clear()
