"""Secrets from the settings: the payload keyring, the reviewers' console's public keys,
the gateway's upload token, and the local stack's for the CLI.

Each comes from a secret variable or from a file. A file that group or others may read gets
a warning once its key has loaded (it is still used: refusing would take a running fleet
down over a chmod). Errors name the setting and the problem, never a byte of the secret.
"""

from __future__ import annotations

import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import SecretStr

from contracts.review_proof import SignerKeyError, parse_signer_keys
from onboarding.runtime.errors import SettingsError
from onboarding.runtime.files import read_secret_file, warn_if_exposed
from onboarding.runtime.settings import Settings
from onboarding_client.keyring import Keyring, KeyringError, entries

_CALLER_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
MIN_CALLER_TOKEN = 16  # a caller's token is a secret: no short guessable words
KEYS_SETTING = "ONBOARDING_ENCRYPTION_KEYS"
KEYS_FILE_SETTING = "ONBOARDING_ENCRYPTION_KEYS_FILE"
TOKEN_SETTING = "GATEWAY_API_TOKEN"
TOKEN_FILE_SETTING = "GATEWAY_API_TOKEN_FILE"
# Under STATE_DIR, made by `onboarding dev`.
DEV_KEYRING = Path("keys") / "payload-keys"
DEV_GATEWAY_TOKEN = Path("keys") / "gateway-token"


def _secret_from(
    value: SecretStr | None, path: Path | None, setting: str, file_setting: str
) -> tuple[bytes, str] | None:
    if value is not None and path is not None:
        raise SettingsError(f"set {setting} or {file_setting}, not both")
    if path is not None:
        return read_secret_file(path, file_setting), file_setting
    if value is not None:
        return value.get_secret_value().encode(), setting
    return None


def load_keyring(settings: Settings) -> Keyring:
    """The payload keys; without them nothing may start, since payloads would be in clear."""
    found = _secret_from(
        settings.onboarding_encryption_keys,
        settings.onboarding_encryption_keys_file,
        KEYS_SETTING,
        KEYS_FILE_SETTING,
    )
    if found is None:
        raise SettingsError(
            f"{KEYS_SETTING} (or {KEYS_FILE_SETTING}) is not set: without a key, personal "
            "data would reach Temporal unencrypted"
        )
    text, source = found
    try:
        keyring = Keyring.parse(text.decode("utf-8"), settings.onboarding_encryption_key_id)
    except (KeyringError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{source}: {exc}") from None
    warn_if_exposed(settings.onboarding_encryption_keys_file, KEYS_FILE_SETTING)
    return keyring


def load_signer_keys(settings: Settings) -> dict[str, Ed25519PublicKey]:
    """The console keys whose proofs the worker accepts (none: every answer is refused)."""
    if settings.review_signer_keys.strip() and settings.review_signer_keys_file is not None:
        raise SettingsError("set REVIEW_SIGNER_KEYS or REVIEW_SIGNER_KEYS_FILE, not both")
    text, source = settings.review_signer_keys, "REVIEW_SIGNER_KEYS"
    if settings.review_signer_keys_file is not None:
        source = "REVIEW_SIGNER_KEYS_FILE"
        raw = read_secret_file(settings.review_signer_keys_file, source)
        text = raw.decode("utf-8", "replace")
    try:
        return parse_signer_keys(text)
    except SignerKeyError as exc:
        raise SettingsError(f"{source}: {exc}") from None


def load_gateway_token(settings: Settings) -> SecretStr | None:
    """The bearer token of selfie uploads, from its variable or its file; None when neither
    is set (an empty value counts as unset: Compose passes unset variables as empty)."""
    value = settings.gateway_api_token if _is_set(settings.gateway_api_token) else None
    found = _secret_from(value, settings.gateway_api_token_file, TOKEN_SETTING, TOKEN_FILE_SETTING)
    if found is None:
        return None
    token = found[0].decode("utf-8", "replace").strip()
    warn_if_exposed(settings.gateway_api_token_file, TOKEN_FILE_SETTING)
    return SecretStr(token) if token else None


def with_dev_secrets(settings: Settings) -> Settings:
    """For the CLI beside `make run`: what is not configured, from the local stack's secrets
    (the dev keyring, the gateway's token), where `onboarding dev` made them.

    Only a command-line client falls back so; the worker and the gateway always need their
    secrets set explicitly (and `onboarding dev` sets them).
    """
    update: dict[str, object] = {}
    dev_keyring = settings.state_dir / DEV_KEYRING
    configured = settings.onboarding_encryption_keys or settings.onboarding_encryption_keys_file
    if not configured and dev_keyring.is_file():
        update["onboarding_encryption_keys_file"] = dev_keyring
    dev_token = settings.state_dir / DEV_GATEWAY_TOKEN
    token = load_gateway_token(settings)
    if token is None and dev_token.is_file():
        token = SecretStr(read_secret_file(dev_token, TOKEN_SETTING).decode().strip())
    if settings.gateway_api_token_file is not None or token != settings.gateway_api_token:
        # Read once here: what uploads is the token, however it was given.
        update |= {"gateway_api_token": token, "gateway_api_token_file": None}
    return settings.model_copy(update=update) if update else settings


def _is_set(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value().strip())


def load_caller_tokens(settings: Settings) -> dict[str, str]:
    """The calling services' codec tokens, by name (CODEC_CALLER_TOKENS or its _FILE):
    `name:token` entries, by commas or lines, `#` comments; none set: no caller."""
    found = _secret_from(
        settings.codec_caller_tokens,
        settings.codec_caller_tokens_file,
        "CODEC_CALLER_TOKENS",
        "CODEC_CALLER_TOKENS_FILE",
    )
    if found is None:
        return {}
    text, source = found
    tokens: dict[str, str] = {}
    for name, token in entries(text.decode("utf-8", "replace")):
        if not _CALLER_NAME.fullmatch(name) or len(token) < MIN_CALLER_TOKEN:
            raise SettingsError(
                f"{source}: each entry is name:token (a name of A-Z a-z 0-9 . _ -, a "
                f"token of at least {MIN_CALLER_TOKEN} characters)"
            )
        if name in tokens:
            raise SettingsError(f"{source}: caller {name!r} is listed twice")
        tokens[name] = token
    warn_if_exposed(settings.codec_caller_tokens_file, "CODEC_CALLER_TOKENS_FILE")
    return tokens
