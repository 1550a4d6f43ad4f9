"""End to end: `onboarding dev` as users run it, driven by the `onboarding` command.

Real processes only: the Temporal dev server, the sandbox, the gateway and the worker,
talking over loopback on ports of their own, so this passes beside a developer's stack.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from activities.selfies.local_store import TOMBSTONES
from devstack.sandbox_client import SandboxClient
from devstack.scenarios import SCENARIOS
from devstack.stack import LOOPBACK, free_port, start_child, temporal_binary, wait_for_port
from tests.e2e.local_stack import SELFIE, Stack, running_stack, start_stack, stop_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="module")
def stack(state_dir: Path) -> Iterator[Stack]:
    with running_stack(state_dir) as running:
        yield running


def test_start_waits_for_a_decision(stack: Stack) -> None:
    done = stack.onboarding(
        "start", "--cpf", "00000000272", "--name", "Maria Silva", "--selfie", str(SELFIE),
        "--request-id", "e2e-async", "--wait", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["workflow_id"] == "onboarding-e2e-async"
    assert answer["result"]["outcome"] == "approved"
    assert answer["result"]["score"] == 90

    status = stack.onboarding("status", "e2e-async", "--json")
    assert json.loads(status.stdout)["stage"] == "decided"


def test_start_registers_the_approved_person_s_account(stack: Stack) -> None:
    sandbox = SandboxClient(f"http://127.0.0.1:{stack.ports['sandbox']}")
    before = len(sandbox.records())
    done = stack.onboarding(
        "start", "--cpf", "39053344705", "--name", "Maria Silva", "--selfie", str(SELFIE),
        "--email", "maria.e2e@example.com", "--phone", "+55 11 91234-0000",
        "--register", "--wait", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["result"]
    assert (result["outcome"], result["account"]["status"]) == ("approved", "registered")
    [record] = [r for r in sandbox.records() if r["cpf"] == "39053344705"]
    assert record["uuid"] == result["account"]["uuid"]
    assert record["mobileNumber"] == "5511912340000"
    # The person with a record already: adopted, and the text output says so.
    existing = stack.onboarding(
        "start", "--cpf", "11144477735", "--name", "Ana Existing", "--selfie", str(SELFIE),
        "--register", "--wait",
    )  # fmt: skip
    assert existing.returncode == 0, existing.stderr
    assert "account: existing" in existing.stdout and "account.existing" in existing.stdout
    assert len(sandbox.records()) == before + 1


def test_the_person_enrolls_in_mfa_with_the_code_from_the_sms(stack: Stack) -> None:
    sandbox = SandboxClient(f"http://127.0.0.1:{stack.ports['sandbox']}")
    started = stack.onboarding(
        "start", "--cpf", "52998224725", "--name", "Maria Silva", "--selfie", str(SELFIE),
        "--email", "maria.mfa@example.com", "--phone", "+55 11 97777-1234",
        "--register", "--mfa", "--request-id", "e2e-mfa", "--json",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    status: dict[str, str] = {}
    for _ in range(120):
        status = json.loads(stack.onboarding("status", "e2e-mfa", "--json").stdout)
        if status["stage"] == "awaiting_otp":
            break
        time.sleep(0.25)
    assert status["stage"] == "awaiting_otp"
    # A malformed code first: refused by the validator, in one line, exit 2.
    typo = stack.onboarding("otp", "submit", "e2e-mfa", "--code", "12345", "--json")
    assert typo.returncode == 2 and "invalid_otp_format" in typo.stderr
    code = sandbox.last_code("+5511977771234")
    accepted = stack.onboarding("otp", "submit", "e2e-mfa", "--json", stdin=f"{code}\n")
    assert accepted.returncode == 0, accepted.stderr
    answer = json.loads(accepted.stdout)
    assert answer["accepted"] is True and len(answer["recovery_code"]) == 24
    result = json.loads(stack.onboarding("result", "e2e-mfa", "--json").stdout)
    assert result["mfa"] == {"status": "enrolled", "method": "sms", "reason": None}
    assert code not in json.dumps(result) and answer["recovery_code"] not in json.dumps(result)
    again = stack.onboarding("otp", "resend", "e2e-mfa")
    assert again.returncode == 2 and "has ended" in again.stderr


def test_demo_reaches_every_expected_outcome(stack: Stack) -> None:
    demo = stack.onboarding("demo", "--json", timeout=180)
    assert demo.returncode == 0, demo.stderr
    rows = json.loads(demo.stdout)["rows"]
    journey = [row for row in rows if row["mfa"]]
    assert {row["cpf"] for row in rows if row not in journey} == {s.cpf for s in SCENARIOS}
    assert [row["cpf"] for row in rows if row["actual"] != row["expected"]] == []
    # And the whole journey: a new person registered, the SMS code typed by the demo.
    [whole] = journey
    assert (whole["account"]["status"], whole["mfa"]["status"]) == ("registered", "enrolled")
    # One more row: a review the demo settled at the console, logged in as Ana.
    reviewed = [row for row in rows if row["review"]]
    assert [(row["cpf"], row["actual"], row["review"]["reviewer"]) for row in reviewed] == [
        ("00000000353", "approved", "ana@reviewers.example")
    ]
    waiting = stack.onboarding("review", "list", "--json")
    assert json.loads(waiting.stdout) == [], "the demo leaves no review waiting"
    # And four captures of Unico's SDK, each with the image the person saw beside it.
    captures = [(row["selfie"], row["actual"], row["reasons"]) for row in rows if row["note"]]
    assert captures == [
        ("capture", "approved", ["unico_id.yes"]),
        ("capture", "rejected", ["liveness.2"]),
        # No process was made: the reason, not `selfie`, says that a capture was refused.
        (None, "recapture", ["unico.10507"]),
        (None, "recapture", ["unico.10508"]),
    ]
    assert {row["selfie"] for row in rows if not row["note"]} == {"image"}


def test_every_selfie_is_deleted_once_its_onboarding_ends(stack: Stack) -> None:
    # Runs after the demo and the single onboarding above: all finished.
    selfies = stack.state_dir / "selfies"
    assert [path for path in selfies.iterdir() if path.is_file()] == []
    assert list((selfies / "previews").iterdir()) == [], "the captures' previews went too"
    # What is left of those Unico settled: a tombstone each, naming the process and no more.
    tombstones = list((selfies / TOMBSTONES).iterdir())
    assert tombstones, "the demo's settled onboardings released theirs with the last call"
    assert all(re.fullmatch(r"[0-9a-f-]{8,64}", t.read_text()) for t in tombstones)


def test_the_web_ui_decrypts_through_the_gateway(stack: Stack) -> None:
    ui = f"http://127.0.0.1:{stack.ports['ui']}"
    codec = f"http://127.0.0.1:{stack.ports['gateway']}/codec"
    settings = httpx.get(f"{ui}/api/v1/settings", timeout=10).json()
    assert settings["Codec"]["Endpoint"] == codec
    # What the browser does from the UI's page: a preflight, then /decode with no token.
    preflight = httpx.options(
        f"{codec}/decode",
        headers={
            "Origin": ui,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert preflight.headers["access-control-allow-origin"] == ui
    token = (stack.state_dir / "keys" / "codec-token").read_text().strip()
    clear = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "IkpvYW5hIg=="}]}
    sealed = httpx.post(f"{codec}/encode", json=clear, headers={"Authorization": f"Bearer {token}"})
    assert sealed.status_code == 200
    assert sealed.json() != clear
    from_ui = httpx.post(f"{codec}/decode", json=sealed.json(), headers={"Origin": ui})
    assert (from_ui.status_code, from_ui.json()) == (200, clear)
    elsewhere = httpx.post(f"{codec}/decode", json=sealed.json(), headers={"Origin": "http://x"})
    assert elsewhere.status_code == 401


def test_only_holders_of_the_gateway_token_store_selfies(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.ports['gateway']}/selfies"
    image, jpeg = SELFIE.read_bytes(), {"Content-Type": "image/jpeg"}
    anonymous = httpx.post(url, content=image, headers=jpeg, timeout=10)
    assert anonymous.status_code == 401
    token = (stack.state_dir / "keys" / "gateway-token").read_text().strip()
    authorized = {**jpeg, "Authorization": f"Bearer {token}"}
    stored = httpx.post(url, content=image, headers=authorized, timeout=10)
    assert stored.status_code == 201
    ref = stored.json()["selfie_ref"]
    (stack.state_dir / "selfies" / ref.split(":", 1)[1]).unlink()  # never onboarded
    assert httpx.get(f"http://127.0.0.1:{stack.ports['gateway']}/healthz").json() == {
        "status": "ok"
    }


def test_the_sandbox_webhook_reaches_the_gateway_with_credentials(stack: Stack) -> None:
    sandbox = f"http://127.0.0.1:{stack.ports['sandbox']}"
    report = httpx.get(f"{sandbox}/_sandbox/webhooks", timeout=10).json()
    assert report["url"] == f"http://127.0.0.1:{stack.ports['gateway']}/webhooks/unico"
    assert report["delivered"] >= 1, "the async onboardings above were announced"
    assert {d["http_status"] for d in report["deliveries"]} <= {200, 202}
    gateway = f"http://127.0.0.1:{stack.ports['gateway']}/webhooks/unico"
    anonymous = httpx.post(gateway, json={"processId": "p-1"}, timeout=10)
    assert anonymous.status_code == 401


def test_onboardings_survive_a_restart_and_ctrl_c_stops_everything(stack: Stack) -> None:
    assert stop_stack(stack) == 0
    for port in stack.ports.values():
        assert_port_free(port)
    restarted = start_stack(stack.state_dir)
    try:
        result = restarted.onboarding("result", "e2e-async", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["outcome"] == "approved"
    finally:
        assert stop_stack(restarted) == 0


def assert_port_free(port: int) -> None:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


def test_a_database_made_before_a_search_attribute_existed_gets_it(tmp_path: Path) -> None:
    """A developer's `.state/temporal.db` from an older release lacks `ReviewDeadline`
    (the server's flags apply to a new database only): `make run` registers it, so the
    worker starts instead of refusing the namespace."""
    state = tmp_path / "state"
    state.mkdir()
    port = free_port()
    command = [str(temporal_binary()), "server", "start-dev", "--ip", LOOPBACK, "--headless"]
    command += ["--port", str(port), "--db-filename", str(state / "temporal.db")]
    command += ["--search-attribute", "OnboardingStage=Keyword", "--log-level", "error"]
    older = start_child("temporal", command, dict(os.environ), tmp_path / "older.log")
    wait_for_port(port, 30, older)
    older.stop()
    with running_stack(state) as stack:
        listed = subprocess.run(
            [str(temporal_binary()), "operator", "search-attribute", "list"],
            env=stack.env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert "ReviewDeadline" in listed.stdout
        done = stack.onboarding(
            "start", "--cpf", "12345678909", "--name", "Maria Silva", "--selfie", str(SELFIE),
            "--wait", "--json",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["result"]["outcome"] == "approved"
