"""The local stack's secrets, each made once in a keys folder and kept across restarts.

`make run` keeps them in `.state/keys/`: the sandbox's service-account key pair (the worker
signs with the private key, the sandbox verifies with the public one) and API key, the
payload keyring, the codec server's token, the gateway's token for selfie uploaders, the
Basic-auth password the sandbox (as Unico) sends to the webhook, the Identity Cloud API
client's secret (the worker reads the file, so rewriting it rotates the secret), and the
reviewers' console's signing key, whose public half the workers trust.

`python -m devstack.credentials [DIR]` makes them for Docker Compose (default
`.state/compose/keys`). Compose mounts the private key and the keyring into containers that
run as another user, so those two are made readable: they unlock nothing but the local
stack. A real service account's key, or a production keyring, never goes through here.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.review_proof import public_key_text
from onboarding_client.keyring import new_key

COMPOSE_KEYS = Path(".state/compose/keys")


@dataclass(frozen=True)
class ServiceAccountKeys:
    private: Path
    public: Path
    api_key: str


def service_account(keys_dir: Path) -> ServiceAccountKeys:
    """A service-account key pair and API key for the sandbox."""
    private, public = keys_dir / "service-account.pem", keys_dir / "service-account.pub.pem"
    api_key = kept_secret(keys_dir, "api-key", lambda: secrets.token_urlsafe(24))
    if not private.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_secret(private, pem)
        public.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return ServiceAccountKeys(private, public, api_key.read_text().strip())


def payload_keyring(keys_dir: Path) -> Path:
    """The payload keyring file: one `dev-1:<base64>` key."""
    return kept_secret(keys_dir, "payload-keys", lambda: f"dev-1:{new_key()}\n")


def codec_token(keys_dir: Path) -> str:
    return _token(keys_dir, "codec-token")


def caller_codec_token(keys_dir: Path) -> Path:
    """The file of the dev calling service's codec token (`dev-caller` in
    CODEC_CALLER_TOKENS): seals, and opens only the answers meant for callers."""
    _token(keys_dir, "caller-codec-token")
    return keys_dir / "caller-codec-token"


def caller_tokens(keys_dir: Path) -> Path:
    """The gateway's CODEC_CALLER_TOKENS_FILE: the dev calling service's entry."""
    token = caller_codec_token(keys_dir).read_text().strip()
    return kept_secret(keys_dir, "codec-caller-tokens", lambda: f"dev-caller:{token}\n")


def gateway_token(keys_dir: Path) -> str:
    """The bearer token selfie uploaders send the gateway (the CLI reads it from here)."""
    return _token(keys_dir, "gateway-token")


def webhook_password(keys_dir: Path) -> str:
    """The Basic-auth password the sandbox (as Unico) sends to the gateway's webhook."""
    return _token(keys_dir, "webhook-password")


def identity_cloud_secret(keys_dir: Path) -> Path:
    """The file of the Identity Cloud API client's secret, which the sandbox checks."""
    return kept_secret(keys_dir, "identity-cloud-secret", lambda: secrets.token_urlsafe(32))


def auth0_secret(keys_dir: Path) -> Path:
    """The file of the Auth0 machine-to-machine app's secret, which the sandbox checks."""
    return kept_secret(keys_dir, "auth0-secret", lambda: secrets.token_urlsafe(32))


CONSOLE_KEY_ID = "dev-console-1"


def console_signing_key(keys_dir: Path) -> Path:
    """The reviewers' console's Ed25519 key (PEM): it signs each answer for the verified
    reviewer; the workers trust its public half (`console_signer_keys`)."""

    def make() -> str:
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return pem.decode()

    return kept_secret(keys_dir, "console-signing.pem", make)


def console_signer_keys(keys_dir: Path) -> str:
    """The `kid:key` entry the workers trust (REVIEW_SIGNER_KEYS) for the console's key."""
    key = serialization.load_pem_private_key(console_signing_key(keys_dir).read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return public_key_text(CONSOLE_KEY_ID, key)


def _token(keys_dir: Path, name: str) -> str:
    return kept_secret(keys_dir, name, lambda: secrets.token_urlsafe(32)).read_text().strip()


def kept_secret(keys_dir: Path, name: str, make: Callable[[], str]) -> Path:
    """A secret file in the keys folder (0700), made (0600) on first use and kept."""
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = keys_dir / name
    if not path.exists():
        _write_secret(path, make().encode())
    return path


def secret_file(keys_dir: Path, name: str, value: str) -> Path:
    """A secret file in the keys folder (0600), written anew with `value`."""
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = keys_dir / name
    _write_secret(path, value.encode())
    path.chmod(0o600)  # a file made before with another mode keeps it through O_TRUNC
    return path


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def main(argv: list[str] | None = None) -> int:
    """Docker Compose's dev secrets, in DIR/keys (see the module's docstring)."""
    args = sys.argv[1:] if argv is None else argv
    keys_dir = Path(args[0]) / "keys" if args else COMPOSE_KEYS
    account = service_account(keys_dir)
    keyring = payload_keyring(keys_dir)
    codec_token(keys_dir)
    gateway_token(keys_dir)
    identity_cloud_secret(keys_dir).chmod(0o644)
    auth0_secret(keys_dir).chmod(0o644)
    console_signing_key(keys_dir).chmod(0o644)
    signers = keys_dir / "review-signer-keys"
    signers.write_text(console_signer_keys(keys_dir) + "\n")  # public: the workers trust it
    account.private.chmod(0o644)
    keyring.chmod(0o644)
    print(f"dev service account keys: {account.private} and {account.public}")
    print(f"dev payload keyring: {keyring}; codec token: {keys_dir / 'codec-token'}")
    print(f"gateway token (GATEWAY_API_TOKEN): {keys_dir / 'gateway-token'}")
    print(f"Identity Cloud client secret: {keys_dir / 'identity-cloud-secret'}")
    print(f"reviewers' console key: {keys_dir / 'console-signing.pem'}; workers trust {signers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
