"""The entity operations over their form fields: `entity.create`, `entity` and `entity.find`.

Each takes the call's fields (a POST's urlencoded form, a GET's query) and answers the
success body or raises `EntityError`; credentials are checked before (`auth`). Structured
values (`attributes`, `key_value`) are JSON text inside one field, as the real service has
them. Descriptions name the field or attribute at fault, never a value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request

from sandbox.identity_cloud.errors import EntityError
from sandbox.identity_cloud.filters import parse_filter
from sandbox.identity_cloud.schema import READABLE, UNIQUE, check_type, validate_new
from sandbox.identity_cloud.store import EntityStore, Record

FORM = "application/x-www-form-urlencoded"
MAX_RESULTS, MAX_RESULTS_LIMIT = 100, 10_000
Fields = Mapping[str, str]


async def form_fields(request: Request) -> dict[str, str]:
    """A GET's query, or a POST's urlencoded form. Any other body holds no fields: the
    service finds none, and answers as for a call without them."""
    if request.method == "GET":
        return dict(request.query_params.multi_items())
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        return {}
    form = await request.form()
    return {name: value for name, value in form.multi_items() if isinstance(value, str)}


def _required(fields: Fields, name: str) -> str:
    value = fields.get(name, "")
    if not value:
        raise EntityError(100, f"{name} is required", name)
    return value


def _json(fields: Fields, name: str) -> Any:
    try:
        return json.loads(fields[name])
    except (ValueError, RecursionError):
        raise EntityError(200, f"{name} is not valid JSON", name) from None


def _whole(fields: Fields, name: str, default: int, low: int = 0, high: int = 2**63 - 1) -> int:
    text = fields.get(name, "")
    if not text:
        return default
    # 19 digits reach past any id; int() of a longer text may even refuse it.
    if not (text.isascii() and text.isdigit() and len(text) <= 19) or not low <= int(text) <= high:
        raise EntityError(200, f"{name} must be a whole number from {low} to {high}", name)
    return int(text)


def _flag(fields: Fields, name: str) -> bool:
    text = fields.get(name, "false").lower()
    if text not in ("true", "false"):
        raise EntityError(200, f"{name} must be true or false", name)
    return text == "true"


def _picked(fields: Fields) -> list[str] | None:
    """The attributes to answer (`attributes`, a JSON list of names); None: all of them."""
    if not fields.get("attributes"):
        return None
    names = _json(fields, "attributes")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise EntityError(200, "attributes must be a JSON list of attribute names", "attributes")
    for name in names:
        if name not in READABLE:
            raise EntityError(223, f"{name} is not an attribute of user", "attributes")
    return names


def _view(record: Record, picked: list[str] | None) -> Record:
    return record if picked is None else {name: record[name] for name in picked}


class EntityAPI:
    def __init__(self, store: EntityStore, find_lag_seconds: Callable[[], float]) -> None:
        self._store, self._lag = store, find_lag_seconds

    def create(self, fields: Fields) -> dict[str, Any]:
        type_name = _required(fields, "type_name")
        _required(fields, "attributes")
        check_type(type_name)
        attributes = _json(fields, "attributes")
        if not isinstance(attributes, dict):
            raise EntityError(200, "attributes must be a JSON object", "attributes")
        include = _flag(fields, "include_record")
        record = self._store.create(validate_new(attributes))
        answer: dict[str, Any] = {"stat": "ok", "id": record["id"], "uuid": record["uuid"]}
        if include:
            answer["result"] = record
        return answer

    def read(self, fields: Fields) -> dict[str, Any]:
        check_type(_required(fields, "type_name"))
        select = self._selector(fields)
        picked = _picked(fields)
        record = select()
        if record is None:
            raise EntityError(310, "no record matches the selector")
        return {"stat": "ok", "result": _view(record, picked)}

    def find(self, fields: Fields) -> dict[str, Any]:
        check_type(_required(fields, "type_name"))
        clauses = parse_filter(fields["filter"]) if fields.get("filter") else []
        if clauses is None:
            raise EntityError(200, "the filter cannot be parsed", "filter")
        for clause in clauses:
            if clause.attribute not in READABLE:
                raise EntityError(223, f"{clause.attribute} is not an attribute of user", "filter")
        limit = _whole(fields, "max_results", MAX_RESULTS, 1, MAX_RESULTS_LIMIT)
        first = _whole(fields, "first_result", 0)
        picked = _picked(fields)
        page = self._store.find(clauses, self._lag())[first : first + limit]
        return {
            "stat": "ok",
            "result_count": len(page),
            "results": [_view(record, picked) for record in page],
        }

    def _selector(self, fields: Fields) -> Callable[[], Record | None]:
        """Exactly one of uuid, id, or key_attribute with key_value: how to look it up."""
        kinds = [name for name in ("uuid", "id") if fields.get(name)]
        if fields.get("key_attribute") or fields.get("key_value"):
            kinds.append("key_attribute")
        if not kinds:
            raise EntityError(100, "uuid, id or key_attribute with key_value is required", "uuid")
        if len(kinds) > 1:
            raise EntityError(201, f"{kinds[0]} and {kinds[1]} cannot go together", kinds[1])
        if kinds == ["uuid"]:
            record_uuid = fields["uuid"]
            return lambda: self._store.by_uuid(record_uuid)
        if kinds == ["id"]:
            record_id = _whole(fields, "id", 0)
            return lambda: self._store.by_id(record_id)
        return self._key(fields)

    def _key(self, fields: Fields) -> Callable[[], Record | None]:
        name = _required(fields, "key_attribute")
        _required(fields, "key_value")
        value = _json(fields, "key_value")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise EntityError(200, "key_value must be a JSON string or number", "key_value")
        if name not in READABLE:
            raise EntityError(223, f"{name} is not an attribute of user", "key_attribute")
        if name not in UNIQUE:
            raise EntityError(200, "key_attribute must name a unique attribute", "key_attribute")
        if not isinstance(value, str):
            return lambda: None  # a number is never equal to a string attribute's value
        return lambda: self._store.by_key(name, value)
