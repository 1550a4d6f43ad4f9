"""The rate limit on the entity API: beyond it, 510 api_limit_error in the usual envelope.

The bucket is Unico's (`sandbox.unico.ratelimit`), one for the whole application: a sandbox
serves one application, and Akamai's limits are the application's. The HTTP status that
comes with 510 is unverified, so it is 200, as with every other error of the service. A
limited call still reaches the endpoint, so the stats count it and its code, but it is
refused before any fault rule: it consumes none.
"""

from __future__ import annotations

from sandbox.identity_cloud.errors import EntityError
from sandbox.unico.ratelimit import TenantRateLimit

APPLICATION = "application"  # the one tenant of the bucket


def check_rate(limit: TenantRateLimit) -> None:
    """Record the arrival; 510 when the application is over its limit."""
    if limit.admit(APPLICATION):
        raise EntityError(510, "the application's rate limit was exceeded")
