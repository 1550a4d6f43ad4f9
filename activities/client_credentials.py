"""An API client's id and secret (Identity Cloud's, Auth0's); for Identity Cloud, as
`Authorization: Basic base64(client_id:client_secret)`.

The secret comes from a variable, or from a file that is read again whenever it changes: an
operator who rotates the secret writes the new one there (a mounted secret does that by
itself), and onboardings blocked on 402 heal at their next retry, without a restart.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path


class CredentialsUnavailable(Exception):
    """The secret cannot be read; the message names the setting."""


@dataclass
class ClientCredentials:
    client_id: str
    secret: str | None = None
    secret_file: Path | None = None
    setting: str = "IDENTITY_CLOUD_CLIENT_SECRET"  # named in the error when it is missing
    _cached: tuple[tuple[int, int], str] | None = field(default=None, repr=False)

    def authorization(self) -> str:
        pair = f"{self.client_id}:{self.secret_value()}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def secret_value(self) -> str:
        if self.secret_file is None:
            if self.secret is None:
                raise CredentialsUnavailable(f"{self.setting} is not set")
            return self.secret
        try:
            stat = os.stat(self.secret_file)
            changed = (stat.st_mtime_ns, stat.st_size)
            if self._cached is None or self._cached[0] != changed:
                self._cached = (changed, self.secret_file.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise CredentialsUnavailable(
                f"{self.setting}_FILE {self.secret_file}: {exc.strerror}"
            ) from None
        return self._cached[1]
