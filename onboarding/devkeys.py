"""`python -m onboarding.devkeys [DIR]`: the dev secrets of Docker Compose's stack.

Makes (once) what `onboarding dev` makes, in DIR/keys (default `.state/compose/keys`): the
sandbox's service-account key pair (the worker signs with the private key, the sandbox
verifies with the public one), a payload keyring `payload-keys` (one `dev-1:<base64>` key,
for the worker's and the gateway's ONBOARDING_ENCRYPTION_KEYS_FILE), `codec-token` (the
gateway's CODEC_AUTH_TOKEN) and `gateway-token` (its GATEWAY_API_TOKEN, which selfie uploaders
send), the two tokens Compose takes from the shell. Compose mounts the private
key and the keyring into containers that run as another user, so those two are made
readable: they unlock nothing but the local stack. A real service account's key, or a
production keyring, never goes through here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from onboarding.devstack import (
    DevStackConfig,
    ensure_dev_credentials,
    ensure_dev_payload_secrets,
    ensure_gateway_token,
)

DEFAULT_DIR = Path(".state/compose")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    state_dir = Path(args[0]) if args else DEFAULT_DIR
    config = DevStackConfig(state_dir=state_dir)
    private, public, _ = ensure_dev_credentials(config)
    keyring, _ = ensure_dev_payload_secrets(config)
    ensure_gateway_token(config)
    private.chmod(0o644)
    keyring.chmod(0o644)
    print(f"dev service account keys: {private} and {public}")
    print(f"dev payload keyring: {keyring}; codec token: {keyring.parent / 'codec-token'}")
    print(f"gateway token (GATEWAY_API_TOKEN): {keyring.parent / 'gateway-token'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
