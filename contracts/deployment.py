"""What the deployment decides where a request leaves an option open: asked as a local
activity, so that a run's answer is in its history and a replay decides as the run did."""

from __future__ import annotations

from contracts.activity import contract, not_called


@contract("review_by_default")
async def review_by_default() -> bool:
    """Whether a `review` decision waits for a reviewer when the request does not say."""
    raise not_called("review_by_default")
