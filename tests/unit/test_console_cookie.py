"""The console's session cookie: HttpOnly and SameSite=Lax always, Secure behind TLS (a
`https://` CONSOLE_PUBLIC_URL); and a console that lacks what it needs does not start."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from temporalio.client import Client

from activities.selfies import SelfieStore
from contracts.evidence import EvidenceSeal
from onboarding.console.app import create_console
from onboarding.runtime.console_settings import ConsoleSettings
from onboarding.runtime.errors import SettingsError
from onboarding_client.keyring import Keyring
from tests.support import TEST_KEYS


def settings(tmp_path: Path, **changes: object) -> ConsoleSettings:
    key = tmp_path / "console.pem"
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    key.write_bytes(pem)
    base: dict[str, object] = {
        "oidc_issuer": "https://tenant.example/",
        "oidc_client_id": "console",
        "session_secret": "s" * 40,
        "signing_key_file": key,
        "audit_log": tmp_path / "audit.jsonl",
    }
    return ConsoleSettings.model_validate({**base, **changes})


async def cookie_of(tmp_path: Path, public_url: str) -> str:
    # Lazy: nothing here reaches Temporal (the gate answers before any query).
    temporal = await Client.connect("127.0.0.1:1", lazy=True)
    keys = Keyring.parse(TEST_KEYS)
    app = create_console(
        settings(tmp_path, public_url=public_url),
        temporal,
        SelfieStore(tmp_path / "selfies"),
        EvidenceSeal(keys.keys, keys.current_id),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=public_url) as browser:
        answer = await browser.get("/reviews")  # no session: to the login page, noting where
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    return answer.headers["set-cookie"].lower()


async def test_the_session_cookie_is_http_only_lax_and_secure_behind_tls(tmp_path: Path) -> None:
    plain = await cookie_of(tmp_path, "http://127.0.0.1:8090")
    assert "httponly" in plain and "samesite=lax" in plain and "secure" not in plain
    behind_tls = await cookie_of(tmp_path, "https://console.example")
    assert "httponly" in behind_tls and "samesite=lax" in behind_tls and "secure" in behind_tls


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"oidc_issuer": None}, "CONSOLE_OIDC_ISSUER"),
        ({"oidc_client_id": None}, "CONSOLE_OIDC_CLIENT_ID"),
        ({"session_secret": "short"}, "CONSOLE_SESSION_SECRET"),
        ({"signing_key_file": None}, "CONSOLE_SIGNING_KEY_FILE"),
    ],
)
def test_a_console_without_what_it_needs_does_not_start(
    tmp_path: Path, change: dict[str, object], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        settings(tmp_path, **change).checked()
