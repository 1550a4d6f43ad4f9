"""Who may call the gateway's Unico webhook: the schemes Unico's team can configure.

Unico signs nothing: the only proof a call is Unico's is the
credential it sends, in the `Authorization` header (Basic or Bearer) or in an API-key
header of the client's choosing. Secrets are compared in constant time. `none` accepts
any caller and suits only a private network; `off` (the default) serves no webhook at all,
and the onboardings rely on polling.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from onboarding.gateway.bearer import carries_bearer
from onboarding.runtime.errors import SettingsError
from onboarding.runtime.settings import Settings


@dataclass(frozen=True)
class WebhookAuth:
    scheme: str  # "none", "basic", "api-key" or "bearer"
    header: str = "authorization"
    secret: bytes = b""  # what the credential must equal: "user:password", the key or token

    def accepts(self, headers: Mapping[str, str]) -> bool:
        if self.scheme == "none":
            return True
        if self.scheme == "bearer":  # the gateway's one bearer check, as on every route
            return carries_bearer(headers, self.secret)
        value = headers.get(self.header, "").strip()
        if self.scheme == "api-key":
            return _same(value.encode(), self.secret)
        prefix, _, credential = value.partition(" ")
        if prefix.lower() != self.scheme:
            return False
        try:  # basic
            return _same(base64.b64decode(credential.strip(), validate=True), self.secret)
        except (binascii.Error, ValueError):
            return False

    @property
    def challenge(self) -> dict[str, str]:
        """The `WWW-Authenticate` header of a 401, where the scheme has one."""
        if self.scheme in ("basic", "bearer"):
            return {"WWW-Authenticate": f'{self.scheme.capitalize()} realm="unico-webhook"'}
        return {}


def _same(given: bytes, expected: bytes) -> bool:
    # compare_digest's time depends only on the length, never on where the bytes differ.
    return hmac.compare_digest(given, expected)


def webhook_auth(settings: Settings) -> WebhookAuth | None:
    """The configured scheme with its secret; None when webhooks are off.

    A scheme without its credentials is a SettingsError: the gateway must not start and
    silently accept, or silently refuse, every webhook.
    """
    scheme = settings.webhook_auth
    if scheme == "off":
        return None
    if scheme == "none":
        return WebhookAuth("none")
    if scheme == "basic":
        user, password = settings.webhook_username, settings.webhook_password
        if not user or password is None or not password.get_secret_value():
            raise SettingsError("WEBHOOK_AUTH=basic needs WEBHOOK_USERNAME and WEBHOOK_PASSWORD")
        if ":" in user:
            raise SettingsError("WEBHOOK_USERNAME must not contain ':' (Basic auth separator)")
        secret = f"{user}:{password.get_secret_value()}"
        return WebhookAuth("basic", secret=secret.encode())
    if scheme == "api-key":
        key = settings.webhook_api_key
        if key is None or not key.get_secret_value() or not settings.webhook_api_key_header:
            raise SettingsError("WEBHOOK_AUTH=api-key needs WEBHOOK_API_KEY")
        header = settings.webhook_api_key_header.lower()
        return WebhookAuth("api-key", header=header, secret=key.get_secret_value().encode())
    token = settings.webhook_bearer_token
    if token is None or not token.get_secret_value():
        raise SettingsError("WEBHOOK_AUTH=bearer needs WEBHOOK_BEARER_TOKEN")
    return WebhookAuth("bearer", secret=token.get_secret_value().encode())
