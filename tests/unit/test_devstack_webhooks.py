"""`onboarding dev` wires Unico's webhook as Unico's team would: sandbox -> gateway, Basic auth."""

from __future__ import annotations

import base64
from pathlib import Path

from devstack.stack import DevPorts, DevStackConfig, webhook_environment
from onboarding.gateway.webhook_auth import webhook_auth
from onboarding.runtime.settings import Settings


def test_the_sandbox_sends_what_the_gateway_accepts(tmp_path: Path) -> None:
    config = DevStackConfig(state_dir=tmp_path, ports=DevPorts(gateway=18088))
    env = webhook_environment(config)
    assert env["SANDBOX_WEBHOOK_URL"] == "http://127.0.0.1:18088/webhooks/unico"
    name, _, value = env["SANDBOX_WEBHOOK_HEADER"].partition(": ")
    gateway = Settings.model_validate({k.lower(): v for k, v in env.items()})
    auth = webhook_auth(gateway)
    assert auth is not None and auth.accepts({name.lower(): value})
    assert base64.b64decode(value.split()[1]).decode().startswith("unico:")
    assert webhook_environment(config) == env, "the password is made once and kept"
    assert (tmp_path / "keys" / "webhook-password").stat().st_mode & 0o077 == 0
    assert env["UNICO_WEBHOOKS"] == "true"  # the worker's reads wait for it first


def test_without_the_gateway_to_receive_it_the_worker_does_not_wait_for_it(
    tmp_path: Path,
) -> None:
    config = DevStackConfig(state_dir=tmp_path, parts=("temporal", "sandbox", "worker"))
    assert webhook_environment(config)["UNICO_WEBHOOKS"] == "false"


def test_no_webhooks_means_polling_only(tmp_path: Path) -> None:
    env = webhook_environment(DevStackConfig(state_dir=tmp_path, webhooks=False))
    assert env == {"WEBHOOK_AUTH": "off", "SANDBOX_WEBHOOK_URL": "", "UNICO_WEBHOOKS": "false"}
