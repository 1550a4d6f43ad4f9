"""The `user` records of the sandbox's application, with the seeded one.

`/entity` reads the primary store: a record is there as soon as its create answered.
`entity.find` reads a replica that lags: a record shows there only `lag` seconds after its
creation (the public pages: "a record just created may take minutes to show in
entity.find"). That lag is what catches a client that looks up with find a record it has
just created. Uniqueness is the primary's, so it holds at once.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.identity_cloud.errors import EntityError
from sandbox.identity_cloud.filters import Clause
from sandbox.identity_cloud.schema import UNIQUE, USER

Record = dict[str, Any]

# Created "well in the past": entity.find sees it whatever the lag.
SEED: Mapping[str, Any] = {
    "id": 1,
    "uuid": "3f2c6a1e-8b4d-4c7a-9e51-6d0b2a9f7c13",
    "created": "2024-03-04 12:00:00.000000 +0000",
    "lastUpdated": "2024-03-04 12:00:00.000000 +0000",
    "cpf": "11144477735",
    "email": "ana.existing@example.com",
    "displayName": "Ana Existing",
    "givenName": "Ana",
    "familyName": "Existing",
    "mobileNumber": None,
    "onboardingRequestId": None,
}


def timestamp(moment: datetime) -> str:
    """The service's form: `2026-12-01 22:30:28.123456 +0000`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f %z")


@dataclass(frozen=True)
class _Stored:
    record: Record
    created_at: float  # monotonic; -inf for the seed


def _compared(name: str, value: Any) -> str | None:
    """A stored value as a filter or key compares it: text, e-mail folded."""
    if value is None:
        return None
    text = str(value)
    attribute = USER.get(name)
    return text if attribute is None else attribute.key(text)


class EntityStore:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._clock, self._wall_clock = clock, wall_clock
        self._records: list[_Stored] = []
        self.reset()

    def reset(self) -> None:
        """Back to the seeded record alone; new ids start again from 2."""
        self._records = [_Stored(dict(SEED), -math.inf)]
        self._next_id = 2

    def create(self, attributes: Mapping[str, str | None]) -> Record:
        """Store a validated new record; 361 names the first unique attribute taken."""
        for name in UNIQUE:  # cpf before email
            value = attributes.get(name)
            if value is not None and self.by_key(name, value) is not None:
                raise EntityError(361, f"the value of {name} is not unique")
        now = timestamp(self._wall_clock())
        record: Record = {
            "id": self._next_id,
            "uuid": str(uuid.uuid4()),
            "created": now,
            "lastUpdated": now,
            **attributes,
        }
        self._next_id += 1
        self._records.append(_Stored(record, self._clock()))
        return dict(record)

    def by_id(self, record_id: int) -> Record | None:
        return self._first(s.record for s in self._records if s.record["id"] == record_id)

    def by_uuid(self, record_uuid: str) -> Record | None:
        return self._first(s.record for s in self._records if s.record["uuid"] == record_uuid)

    def by_key(self, name: str, value: str) -> Record | None:
        """The record whose unique attribute `name` holds `value`."""
        wanted = USER[name].key(value)
        return self._first(
            s.record for s in self._records if _compared(name, s.record[name]) == wanted
        )

    def find(self, clauses: list[Clause], lag_seconds: float) -> list[Record]:
        """The records the replica holds that match every clause, in id order."""
        horizon = self._clock() - lag_seconds
        return [
            dict(s.record)
            for s in self._records
            if s.created_at <= horizon and all(self._matches(s.record, c) for c in clauses)
        ]

    def records(self) -> list[Record]:
        return [dict(s.record) for s in self._records]

    @staticmethod
    def _matches(record: Record, clause: Clause) -> bool:
        name = clause.attribute
        return _compared(name, record[name]) == _compared(name, clause.value)

    @staticmethod
    def _first(records: Iterable[Record]) -> Record | None:
        found = next(iter(records), None)
        return None if found is None else dict(found)
