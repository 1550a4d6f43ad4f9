"""`python worker.py` refuses to start, in one line and exit code 2, when a setting is wrong.

Each case runs the real entry point as a child process with a controlled environment.
TEMPORAL_ADDRESS always points at a free port where nothing listens, so no case can reach
a developer's running stack.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from devstack.stack import free_port, start_child, temporal_binary, wait_for_port
from tests.support import LOOPBACK, SERVICE_ACCOUNT, TEST_KEYS, KeyPair, make_key_pair

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = ("UNICO_SERVICE_ACCOUNT", "UNICO_PRIVATE_KEY_FILE", "UNICO_API_KEY")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("worker-keys"))


@pytest.fixture(scope="module")
def dead_temporal() -> str:
    return f"{LOOPBACK}:{free_port()}"


def run_worker(dead_temporal: str, tmp_path: Path, **overrides: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNICO_", "TEMPORAL_"))}
    env |= {"TEMPORAL_ADDRESS": dead_temporal, "SELFIE_DIR": str(tmp_path / "selfies")}
    env |= {"ONBOARDING_ENCRYPTION_KEYS": TEST_KEYS, "TEMPORAL_WORKER_BUILD_ID": "test"}
    env |= overrides
    return subprocess.run(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def good_credentials(keys: KeyPair) -> dict[str, str]:
    return {
        "UNICO_SERVICE_ACCOUNT": SERVICE_ACCOUNT,
        "UNICO_PRIVATE_KEY_FILE": str(keys.private),
        "UNICO_API_KEY": "test-api-key",
    }


def the_one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("worker: ")
    return lines[0]


def test_no_credentials_names_every_missing_setting(dead_temporal: str, tmp_path: Path) -> None:
    line = the_one_line(run_worker(dead_temporal, tmp_path))
    assert "missing" in line
    for name in CREDENTIALS:
        assert name in line


def test_a_worker_without_a_build_id_is_refused(
    keys: KeyPair, dead_temporal: str, tmp_path: Path
) -> None:
    """Every worker declares its build: without one it would be unversioned, and onboardings
    pinned to a build could land on it."""
    done = run_worker(
        dead_temporal, tmp_path, **good_credentials(keys), TEMPORAL_WORKER_BUILD_ID=""
    )
    line = the_one_line(done)
    assert "TEMPORAL_WORKER_BUILD_ID" in line


@pytest.mark.parametrize("missing", CREDENTIALS)
def test_one_missing_credential_is_named_alone(
    missing: str, keys: KeyPair, dead_temporal: str, tmp_path: Path
) -> None:
    settings = {**good_credentials(keys), missing: ""}
    line = the_one_line(run_worker(dead_temporal, tmp_path, **settings))
    assert missing in line
    assert all(name not in line for name in CREDENTIALS if name != missing)


def write_encrypted_key(path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    return path


KEY_FILES = [
    # (case, make the file, words in the line)
    ("missing file", lambda d, k: d / "missing.pem", "no such file"),
    ("a directory", lambda d, k: d, "no such file"),
    ("not PEM at all", lambda d, k: _write(d / "key.pem", b"hello\n"), "not an unencrypted PEM"),
    ("empty file", lambda d, k: _write(d / "key.pem", b""), "not an unencrypted PEM"),
    ("the public key", lambda d, k: k.public, "not an unencrypted PEM"),
    ("an encrypted key", lambda d, k: write_encrypted_key(d / "enc.pem"), "not an unencrypted"),
]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "words"), [case[1:] for case in KEY_FILES], ids=[case[0] for case in KEY_FILES]
)
def test_a_wrong_private_key_file_is_one_line(
    make, words: str, keys: KeyPair, dead_temporal: str, tmp_path: Path
) -> None:
    key_file = make(tmp_path, keys)
    settings = {**good_credentials(keys), "UNICO_PRIVATE_KEY_FILE": str(key_file)}

    line = the_one_line(run_worker(dead_temporal, tmp_path, **settings))

    assert "UNICO_PRIVATE_KEY_FILE" in line
    assert str(key_file) in line
    assert words in line


@pytest.mark.parametrize(
    ("name", "value"),
    [("UNICO_TOKEN_SAFETY_MARGIN_SECONDS", "soon"), ("UNICO_MAX_CONNECTIONS", "many")],
)
def test_a_malformed_number_is_one_line(
    name: str, value: str, keys: KeyPair, dead_temporal: str, tmp_path: Path
) -> None:
    settings = {**good_credentials(keys), name: value}
    line = the_one_line(run_worker(dead_temporal, tmp_path, **settings))
    assert name in line


def test_good_credentials_but_temporal_down(
    keys: KeyPair, dead_temporal: str, tmp_path: Path
) -> None:
    line = the_one_line(run_worker(dead_temporal, tmp_path, **good_credentials(keys)))
    assert "cannot reach Temporal" in line
    assert dead_temporal in line


def write_ec_key(path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def unreadable_file(directory: Path) -> Path:
    """A regular file whose read fails: mode 000, or (root reads anything) /proc/self/mem."""
    if os.geteuid() != 0:
        path = _write(directory / "key.pem", b"")
        path.chmod(0)
        return path
    if not Path("/proc/self/mem").is_file():
        pytest.skip("needs a non-root user or Linux /proc")
    return Path("/proc/self/mem")


@pytest.mark.parametrize(
    "make",
    [lambda d: write_ec_key(d / "ec.pem"), unreadable_file],
    ids=["an EC key (RS256 needs RSA)", "an unreadable file"],
)
def test_a_key_that_cannot_sign_rs256_is_refused_at_start(
    make, keys: KeyPair, dead_temporal: str, tmp_path: Path
) -> None:
    # An EC key loads as a private key but cannot sign RS256: every token request would
    # fail later with jwt.InvalidKeyError. An unreadable file must not end in a traceback.
    key_file = make(tmp_path)
    settings = {**good_credentials(keys), "UNICO_PRIVATE_KEY_FILE": str(key_file)}
    line = the_one_line(run_worker(dead_temporal, tmp_path, **settings))
    assert "UNICO_PRIVATE_KEY_FILE" in line


def test_a_namespace_without_our_search_attributes_is_refused_at_start(
    keys: KeyPair, tmp_path: Path
) -> None:
    """A namespace set up before `ReviewDeadline` existed: every review would fail its
    workflow task on the upsert, so the worker says what to register instead of starting."""
    port = free_port()
    older = ["OnboardingStage=Keyword", "OnboardingOutcome=Keyword", "UnicoProcessId=Keyword"]
    command = [str(temporal_binary()), "server", "start-dev", "--ip", LOOPBACK, "--headless"]
    command += ["--port", str(port), "--log-level", "error"]
    for attribute in older:
        command += ["--search-attribute", attribute]
    server = start_child("temporal", command, dict(os.environ), tmp_path / "temporal.log")
    try:
        wait_for_port(port, 30, server)
        done = run_worker(f"{LOOPBACK}:{port}", tmp_path, **good_credentials(keys))
    finally:
        server.stop()
    line = the_one_line(done)
    assert "ReviewDeadline=Datetime" in line
    assert "temporal operator search-attribute create" in line
    assert "OnboardingStage" not in line, "only what is missing is named"


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"IDENTITY_CLOUD_URL": "http://127.0.0.1:1/identity-cloud"}, "IDENTITY_CLOUD_CLIENT_ID"),
        (
            {"AUTH0_TENANT_URL": "http://127.0.0.1:1/auth0", "AUTH0_CLIENT_ID": "app"},
            "GUARDIAN_URL",
        ),
        (
            {
                "AUTH0_TENANT_URL": "http://127.0.0.1:1/auth0",
                "AUTH0_CLIENT_ID": "app",
                "AUTH0_CLIENT_SECRET": "s",
                "GUARDIAN_URL": "http://127.0.0.1:1/guardian",
                "GUARDIAN_USER_ID_TEMPLATE": "auth0|fixed",
            },
            "GUARDIAN_USER_ID_TEMPLATE",
        ),
    ],
    ids=["identity cloud half set", "guardian half set", "a template without {uuid}"],
)
def test_a_step_half_configured_is_one_line(
    given: dict[str, str], named: str, keys: KeyPair, dead_temporal: str, tmp_path: Path
) -> None:
    settings = {**good_credentials(keys), **given}
    line = the_one_line(run_worker(dead_temporal, tmp_path, **settings))
    assert named in line
