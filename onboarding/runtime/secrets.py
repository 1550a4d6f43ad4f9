"""Secrets from the settings: the payload keyring, the reviewers' console's public keys,
and the local stack's for the CLI.

Each comes from a secret variable or from a file. A file that group or others may read gets
a warning once its key has loaded (it is still used: refusing would take a running fleet
down over a chmod). Errors name the setting and the problem, never a byte of the secret.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import SecretStr

from contracts.review_proof import SignerKeyError, parse_signer_keys
from onboarding.runtime.errors import SettingsError
from onboarding.runtime.files import read_secret_file, warn_if_exposed
from onboarding.runtime.settings import Settings
from onboarding_client.keyring import Keyring, KeyringError

KEYS_SETTING = "ONBOARDING_ENCRYPTION_KEYS"
KEYS_FILE_SETTING = "ONBOARDING_ENCRYPTION_KEYS_FILE"
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
    if not _is_set(settings.gateway_api_token) and dev_token.is_file():
        token = read_secret_file(dev_token, "GATEWAY_API_TOKEN").decode().strip()
        update["gateway_api_token"] = SecretStr(token)
    return settings.model_copy(update=update) if update else settings


def _is_set(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value().strip())
