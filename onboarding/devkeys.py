"""`python -m onboarding.devkeys [DIR]`: the sandbox's dev service account, for Docker Compose.

Makes (once) the key pair that `onboarding dev` makes, in DIR/keys (default
`.state/compose/keys`): the worker signs with the private key, the sandbox verifies with the
public one. Compose mounts them into containers that run as another user, so the private key
is made readable: it unlocks nothing but the local sandbox. A real service account's key
never goes through here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from onboarding.devstack import DevStackConfig, ensure_dev_credentials

DEFAULT_DIR = Path(".state/compose")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    state_dir = Path(args[0]) if args else DEFAULT_DIR
    private, public, _ = ensure_dev_credentials(DevStackConfig(state_dir=state_dir))
    private.chmod(0o644)
    print(f"dev service account keys: {private} and {public}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
