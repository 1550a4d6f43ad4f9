"""End to end: the tools an operator has beside the reviewers' console, on `onboarding dev`.

`onboarding review list` shows the queue; an answer needs a verified reviewer, so
`onboarding review approve`, `temporal workflow update execute` with the codec flags, and
the Web UI's "send update" (the requests its page makes: the payload sealed by the codec
server, then the UI server's update route) are all refused, and the review still waits for
the console. Unico's sandbox answers score 28 for 00000000353: a `review` decision.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.console_client import REVIEWER, ConsoleUser
from devstack.stack import temporal_binary
from tests.e2e.local_stack import SELFIE, Stack, result_of, running_stack

pytestmark = pytest.mark.e2e

REVIEW_CPF = "00000000353"


@pytest.fixture(scope="module")
def stack(state: Path) -> Iterator[Stack]:
    with running_stack(state) as running:
        yield running


def waiting_review(stack: Stack, request_id: str) -> dict[str, Any]:
    """Start an onboarding with review on; its decision (`review`) comes back at once."""
    started = stack.onboarding(
        "start", "--cpf", REVIEW_CPF, "--name", "Maria Silva", "--selfie", str(SELFIE),
        "--request-id", request_id, "--review", "--wait-decision", "--json",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    answer: dict[str, Any] = json.loads(started.stdout)
    return answer


def listed(stack: Stack, request_id: str) -> dict[str, Any]:
    """The review as `review list` shows it, once the visibility store has it."""
    deadline = time.monotonic() + 20
    while True:
        done = stack.onboarding("review", "list", "--json")
        assert done.returncode == 0, done.stderr
        rows: dict[str, dict[str, Any]] = {r["request_id"]: r for r in json.loads(done.stdout)}
        if request_id in rows or time.monotonic() > deadline:
            return rows[request_id]
        time.sleep(0.5)


def temporal(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """The `temporal` CLI, on the stack's profile file, through the codec server."""
    token = (stack.state_dir / "keys" / "codec-token").read_text().strip()
    codec = f"http://127.0.0.1:{stack.ports['gateway']}/codec"
    return subprocess.run(
        [
            str(temporal_binary()),
            *args,
            "--codec-endpoint",
            codec,
            "--codec-auth",
            f"Bearer {token}",
        ],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_decision_comes_back_before_the_review_and_the_list_shows_it(stack: Stack) -> None:
    answer = waiting_review(stack, "e2e-review-list")
    decision = answer["decision"]
    assert (decision["outcome"], decision["score"]) == ("review", 28)
    assert [r["code"] for r in decision["reasons"]] == ["score.review"]

    row = listed(stack, "e2e-review-list")
    assert (row["score"], row["process_id"]) == (28, decision["process_id"])
    assert [r["code"] for r in row["reasons"]] == ["score.review"]
    assert 0 <= row["waited_seconds"] < 60
    assert 172_700 < row["due_in_seconds"] <= 172_800, "the default deadline: 48 h"
    assert row["due_soon"] is False
    text = stack.onboarding("review", "list")
    assert "e2e-review-list" in text.stdout and "score.review" in text.stdout
    assert REVIEW_CPF not in text.stdout + json.dumps(row), "no personal data in the list"


def still_waits(stack: Stack, request_id: str) -> None:
    done = stack.onboarding("review", "list", "--json")
    assert request_id in {row["request_id"] for row in json.loads(done.stdout)}


async def answered_in_the_console(
    stack: Stack, request_id: str, decision: str, **more: Any
) -> None:
    async with ConsoleUser(f"http://127.0.0.1:{stack.ports['console']}") as ana:
        await ana.log_in(*REVIEWER)
        answered = await ana.answer(request_id, decision, **more)
    assert f"{request_id}: {decision}" in answered.text


async def test_the_onboarding_cli_cannot_answer_and_says_where_to(stack: Stack) -> None:
    waiting_review(stack, "e2e-review-cli")
    approved = stack.onboarding(
        "review", "approve", "e2e-review-cli", "--reviewer", "ana.silva",
        "--note", "documento conferido por telefone", "--json",
    )  # fmt: skip
    assert approved.returncode == 2 and approved.stderr.count("\n") == 1
    console = f"http://127.0.0.1:{stack.ports['console']}/reviews/e2e-review-cli"
    assert console in approved.stderr and "verified" in approved.stderr
    still_waits(stack, "e2e-review-cli")
    await answered_in_the_console(stack, "e2e-review-cli", "approved", reason="documents.match")
    result = result_of(stack, "e2e-review-cli")
    assert [r["code"] for r in result["reasons"]] == ["score.review", "review.approved"]
    assert result["review"]["reviewer"] == "ana@reviewers.example"


async def test_a_typed_update_is_refused_and_the_console_s_note_is_sealed(stack: Stack) -> None:
    waiting_review(stack, "e2e-review-temporal")
    workflow = "onboarding-e2e-review-temporal"
    malformed = temporal(
        stack, "workflow", "update", "execute", "--workflow-id", workflow, "--name", "review",
        "--input", json.dumps({"decision": "maybe", "reviewer": "bob"}),
    )  # fmt: skip
    assert malformed.returncode != 0
    assert "review.invalid_decision" in malformed.stderr

    note = "a selfie não confere com a foto do documento"
    typed = temporal(
        stack, "workflow", "update", "execute", "--workflow-id", workflow, "--name", "review",
        "--input", json.dumps({"decision": "rejected", "reviewer": "bob", "note": note}),
    )  # fmt: skip
    assert typed.returncode != 0
    assert "review.unverified" in typed.stderr, typed.stderr
    print(f"a typed review update answers: {typed.stderr.strip()}")
    still_waits(stack, "e2e-review-temporal")

    await answered_in_the_console(
        stack, "e2e-review-temporal", "rejected", reason="documents.mismatch", note=note
    )
    result = result_of(stack, "e2e-review-temporal")
    assert (result["outcome"], result["review"]["note"]) == ("rejected", note)
    # The note is in the history only sealed: read it without the codec and it is not there.
    raw = subprocess.run(
        [str(temporal_binary()), "workflow", "show", "--workflow-id", workflow, "-o", "json"],
        env=stack.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert raw.returncode == 0, raw.stderr
    history = raw.stdout
    assert "UPDATE_ACCEPTED" in history
    assert "confere" not in history and base64.b64encode(note.encode()).decode() not in history


def test_the_web_ui_s_send_update_is_refused(stack: Stack) -> None:
    """What the UI's page does: seal the typed input at the codec endpoint (from the UI's
    origin, no token), then POST the UI server's update route with its CSRF token."""
    waiting_review(stack, "e2e-review-ui")
    ui = f"http://127.0.0.1:{stack.ports['ui']}"
    codec = f"http://127.0.0.1:{stack.ports['gateway']}/codec"
    typed = {"decision": "recapture", "reviewer": "carla", "note": "selfie escura"}
    plain = {
        "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
        "data": base64.b64encode(json.dumps(typed).encode()).decode(),
    }
    sealed = httpx.post(
        f"{codec}/encode",
        json={"payloads": [plain]},
        headers={"Origin": ui, "X-Namespace": "default"},
        timeout=10,
    )
    assert sealed.status_code == 200, sealed.text
    with httpx.Client(base_url=ui, timeout=30) as browser:
        browser.get("/api/v1/settings")  # sets the CSRF cookie, as loading the page does
        body = {
            "workflowExecution": {"runId": ""},
            "request": {
                "meta": {"updateId": str(uuid.uuid4()), "identity": "web-ui"},
                "input": {"args": {"payloads": sealed.json()["payloads"]}},
            },
        }
        sent = browser.post(
            "/api/v1/namespaces/default/workflows/onboarding-e2e-review-ui/update/review",
            json=body,
            headers={"X-CSRF-TOKEN": browser.cookies["_csrf"]},
        )
    assert sent.status_code == 200, sent.text
    assert "failure" in sent.json()["outcome"] and "review.unverified" in sent.text
    still_waits(stack, "e2e-review-ui")
