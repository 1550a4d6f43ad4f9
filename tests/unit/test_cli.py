"""The `onboarding` command: `decide` on Unico answers, and one-line failures for the rest.

Most cases call `onboarding.cli.main` in process; a few run the installed console script
as a child process, to see exactly what a shell user sees (stdin, exit code, no traceback).
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.stack import free_port
from onboarding.cli.main import main
from tests.support import LOOPBACK, TEST_KEYS, environ_with

ONBOARDING = Path(sys.executable).parent / "onboarding"
VALID_CPF = "12345678909"


def process(status: int, unico_id: str | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": "p", "status": status, **fields}
    if unico_id:
        body["unicoId"] = {"result": unico_id}
    return body


def scored(score: int | None, **fields: Any) -> dict[str, Any]:
    extra = {} if score is None else {"score": score}
    return process(3, "inconclusive", liveness=1, **extra, **fields)


# GET /processes/v1/{id} bodies: the Postman captures and the scenario rows of seed 004.
FRAUDSTER = {"identityFraudsters": {"result": "yes"}}
BODIES = [
    # (case, body, outcome, first reason code)
    ("unicoId yes", process(3, "yes"), "approved", "unico_id.yes"),
    ("unicoId no", process(3, "no"), "rejected", "unico_id.no"),
    ("score 28", scored(28), "review", "score.review"),
    ("score 90", scored(90), "approved", "score.approve"),
    ("score 0", scored(0), "recapture", "score.0"),
    ("score -50", scored(-50), "rejected", "score.deny"),
    ("liveness 2", process(3, "inconclusive", liveness=2), "rejected", "liveness.2"),
    ("score dropped", scored(None), "review", "score.missing"),
    ("fraudster, score -20", scored(-20, **FRAUDSTER), "rejected", "fraudster.yes"),
    ("status 2", process(2, "inconclusive", liveness=1), None, "status.2"),
    ("status 1", process(1), None, "status.1"),
    ("status 4", process(4), "canceled", "status.4"),
    ("status 5", process(5), "error", "status.5"),
]
BODY_PARAMS = pytest.mark.parametrize(
    ("body", "outcome", "reason"),
    [case[1:] for case in BODIES],
    ids=[case[0] for case in BODIES],
)


def run_cli(*args: str, stdin: str = "", env: dict[str, str] | None = None):
    return subprocess.run(
        [str(ONBOARDING), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ_with(env or {}),
        timeout=60,
    )


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port that accepts TCP connections, so that any attempt to use it can be seen."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def was_contacted(sock: socket.socket) -> bool:
    try:
        connection, _ = sock.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


@pytest.fixture
def dead_stack(monkeypatch: pytest.MonkeyPatch) -> str:
    """Temporal and the gateway at a port where nothing listens."""
    address = f"{LOOPBACK}:{free_port()}"
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    monkeypatch.setenv("GATEWAY_URL", f"http://{address}")
    monkeypatch.setenv("ONBOARDING_ENCRYPTION_KEYS", TEST_KEYS)
    return address


@pytest.fixture
def selfie(tmp_path: Path) -> Path:
    path = tmp_path / "selfie.jpg"
    path.write_bytes(b"not checked before the upload")
    return path


# --- decide -----------------------------------------------------------------------------


@BODY_PARAMS
def test_decide_a_file_as_json(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    body: dict[str, Any],
    outcome: str | None,
    reason: str,
) -> None:
    path = tmp_path / "process.json"
    path.write_text(json.dumps(body))

    assert main(["decide", str(path), "--json"]) == 0

    out, err = capsys.readouterr()
    decision = json.loads(out)
    assert set(decision) == {"outcome", "reasons"}
    assert decision["outcome"] == outcome
    assert decision["reasons"][0]["code"] == reason
    assert all(set(r) == {"code", "message"} for r in decision["reasons"])
    assert err == ""


@BODY_PARAMS
def test_decide_a_file_as_text(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    body: dict[str, Any],
    outcome: str | None,
    reason: str,
) -> None:
    path = tmp_path / "process.json"
    path.write_text(json.dumps(body))

    assert main(["decide", str(path)]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"outcome: {outcome or 'not final yet'}"
    assert lines[1].startswith(f"  {reason}: ")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "Invalid JSON"),
        ("", "Invalid JSON"),
        ('{"status": 3}', "not a GET /processes/v1 answer"),  # no id
        ('{"id": "p", "status": "finished"}', "not a GET /processes/v1 answer"),
    ],
    ids=["broken JSON", "empty", "missing id", "status not a number"],
)
def test_decide_refuses_what_is_not_a_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, fragment: str
) -> None:
    path = tmp_path / "process.json"
    path.write_text(content)

    assert main(["decide", str(path)]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert_one_line_error(err, "onboarding decide:", fragment)


def test_decide_on_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decide", str(tmp_path / "nope.json")]) == 2
    assert_one_line_error(capsys.readouterr().err, "cannot read", "nope.json")


@pytest.mark.parametrize(("body", "outcome", "reason"), [case[1:] for case in BODIES[:2]])
def test_decide_from_stdin_in_a_shell(body: dict[str, Any], outcome: str, reason: str) -> None:
    as_json = run_cli("decide", "--json", stdin=json.dumps(body))
    as_text = run_cli("decide", "-", stdin=json.dumps(body))

    assert (as_json.returncode, as_text.returncode) == (0, 0)
    assert json.loads(as_json.stdout)["outcome"] == outcome
    assert as_text.stdout.splitlines()[0] == f"outcome: {outcome}"
    assert as_json.stderr == as_text.stderr == ""


def test_decide_from_stdin_not_final_is_null_in_a_shell() -> None:
    done = run_cli("decide", "--json", stdin='{"id": "p", "status": 1}')
    assert done.returncode == 0
    assert json.loads(done.stdout) == {
        "outcome": None,
        "reasons": [{"code": "status.1", "message": "Unico is still processing; not final yet"}],
    }


def test_decide_invalid_json_on_stdin_in_a_shell() -> None:
    done = run_cli("decide", stdin="<html>not json</html>")
    assert done.returncode == 2
    assert done.stdout == ""
    assert_one_line_error(done.stderr, "onboarding decide:", "Invalid JSON")


# --- start and status: refusals before the network, and a stack that is down -------------


def test_start_with_a_missing_selfie(
    tmp_path: Path,
    listener: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = "{}:{}".format(*listener.getsockname())
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    monkeypatch.setenv("GATEWAY_URL", f"http://{address}")
    monkeypatch.setenv("ONBOARDING_ENCRYPTION_KEYS", TEST_KEYS)
    missing = tmp_path / "missing.jpg"

    code = main(["start", "--cpf", VALID_CPF, "--name", "Maria", "--selfie", str(missing)])

    assert code == 2
    assert_one_line_error(capsys.readouterr().err, "onboarding start:", str(missing))
    assert not was_contacted(listener)


def test_start_with_an_invalid_cpf_is_refused_before_any_network(
    selfie: Path,
    listener: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = "{}:{}".format(*listener.getsockname())
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    monkeypatch.setenv("GATEWAY_URL", f"http://{address}")
    monkeypatch.setenv("ONBOARDING_ENCRYPTION_KEYS", TEST_KEYS)

    code = main(["start", "--cpf", "12345678900", "--name", "Maria", "--selfie", str(selfie)])

    assert code == 2
    assert_one_line_error(capsys.readouterr().err, "onboarding start:", "20507")
    assert not was_contacted(listener)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [([], "subject.phone"), (["--phone", "11912345678"], "options.mfa.user_id")],
    ids=["no phone", "no account to enroll"],
)
def test_start_with_mfa_but_without_what_it_needs_is_refused_before_any_network(
    selfie: Path,
    listener: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    fragment: str,
) -> None:
    address = "{}:{}".format(*listener.getsockname())
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    monkeypatch.setenv("GATEWAY_URL", f"http://{address}")
    monkeypatch.setenv("ONBOARDING_ENCRYPTION_KEYS", TEST_KEYS)
    argv = ["start", "--cpf", VALID_CPF, "--name", "Maria", "--selfie", str(selfie), "--mfa"]

    assert main([*argv, *extra]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err, "onboarding start:", "mfa.field_required")
    assert fragment in err
    assert not was_contacted(listener)


def test_otp_submit_reads_the_code_from_stdin_and_needs_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["otp", "submit", "r-1"]) == 2
    assert_one_line_error(capsys.readouterr().err, "onboarding otp:", "no code")


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "order-1"],
        ["result", "order-1"],
        ["start", "--cpf", VALID_CPF, "--name", "Maria", "--selfie", "{selfie}"],
        ["start", "--cpf", VALID_CPF, "--name", "Maria", "--selfie", "{selfie}", "--json"],
    ],
    ids=["status", "result", "start", "start --json"],
)
def test_commands_with_temporal_down(
    argv: list[str], selfie: Path, dead_stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([arg.format(selfie=selfie) for arg in argv])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert_one_line_error(err, f"onboarding {argv[0]}:", "cannot reach Temporal", dead_stack)


def test_status_with_temporal_down_in_a_shell() -> None:
    address = f"{LOOPBACK}:{free_port()}"
    env = {"TEMPORAL_ADDRESS": address, "ONBOARDING_ENCRYPTION_KEYS": TEST_KEYS}
    done = run_cli("status", "order-1", env=env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert_one_line_error(done.stderr, "cannot reach Temporal", address)


def test_a_bad_setting_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "not-a-port")
    assert main(["status", "order-1"]) == 2
    assert_one_line_error(capsys.readouterr().err, "GATEWAY_PORT")


# --- review -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["review", "approve", "r-1", "--reviewer", "ana"],
        ["review", "reject", "r-1"],
        ["review", "recapture", "r-1", "--note", "selfie escura"],
    ],
    ids=["approve as a typed reviewer", "reject", "recapture with a note"],
)
def test_the_command_line_cannot_answer_a_review_and_says_where_to(
    argv: list[str],
    listener: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    host, port = listener.getsockname()
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"{host}:{port}")
    monkeypatch.setenv("ONBOARDING_ENCRYPTION_KEYS", TEST_KEYS)
    monkeypatch.setenv("CONSOLE_PUBLIC_URL", "https://console.example/")
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_line_error(err, "onboarding review:", "https://console.example/reviews/r-1")
    assert "verified" in err
    assert not was_contacted(listener), "nothing was sent"


def test_review_list_with_temporal_down(
    dead_stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["review", "list"]) == 2
    assert_one_line_error(capsys.readouterr().err, "onboarding review:", "cannot reach Temporal")


# --- argparse -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["frobnicate"], "invalid choice"),
        ([], "required"),
        (["start", "--cpf", VALID_CPF], "--name"),
        (["status"], "request_id"),
        (["review", "approve"], "request_id"),
        (["review", "maybe", "r-1"], "invalid choice"),
        (["otp", "submit"], "request_id"),
        (["otp", "guess", "r-1"], "invalid choice"),
        (
            [
                "start",
                "--cpf",
                VALID_CPF,
                "--name",
                "M",
                "--selfie",
                "s",
                "--wait",
                "--wait-decision",
            ],
            "not allowed with",
        ),
    ],
    ids=[
        "unknown command",
        "no command",
        "start without --name",
        "status without id",
        "review without id",
        "unknown review answer",
        "otp submit without id",
        "unknown otp action",
        "both waits",
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: onboarding")
    assert fragment in err


def test_unknown_command_in_a_shell() -> None:
    done = run_cli("frobnicate")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
    assert "Traceback" not in done.stderr
