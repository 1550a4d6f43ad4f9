"""What this deployment decides where a request leaves an option open.

Read once from the worker's settings, answered as a local activity, so that the answer a
run got is in its history and a replay decides as the run did, whatever the setting is now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from contracts.activity import implements
from contracts.deployment import review_by_default


class DeploymentDefaults:
    def __init__(self, review_by_default: bool) -> None:
        self._review = review_by_default

    def all(self) -> Sequence[Callable[..., Any]]:
        return [self.review_by_default]

    @implements(review_by_default)
    async def review_by_default(self) -> bool:
        """Whether a `review` decision waits for a reviewer when the request does not say."""
        return self._review
