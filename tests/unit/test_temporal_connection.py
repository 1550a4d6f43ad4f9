"""Reading where Temporal is, as Temporal's own tools read it, and telling what went wrong.

The reading runs on real files (profiles, certificates made here); the failures are the
texts Temporal's client gives for each one (tests/e2e/test_temporal_tls.py meets them live).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.stack import free_port
from onboarding.runtime.errors import StackUnavailable
from onboarding.temporal.connection import (
    VARIABLES,
    TemporalSettingError,
    TemporalTarget,
    explain_failure,
    speaks_tls,
)
from tests.tls import SERVER_NAME, Pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki.make(tmp_path_factory.mktemp("pki"))


def profile_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "temporal.toml"
    path.write_text(text)
    return path


def test_nothing_set_is_the_local_stack() -> None:
    target = TemporalTarget.from_environment({})
    assert (target.address, target.namespace) == ("127.0.0.1:7233", "default")
    assert target.tls is None and target.api_key is None
    assert target.connect_options() == {
        "target_host": "127.0.0.1:7233",
        "namespace": "default",
        "api_key": None,
        "tls": False,
        "rpc_metadata": {},
    }
    assert target.describe() == "127.0.0.1:7233, namespace default, plaintext"


def test_variables_are_laid_over_the_profile(tmp_path: Path) -> None:
    path = profile_file(
        tmp_path,
        '[profile.prod]\naddress = "prod.example:7233"\nnamespace = "ns-prod"\n'
        '[profile.prod.grpc_meta]\nx-team = "onboarding"\n',
    )
    env = {"TEMPORAL_CONFIG_FILE": str(path), "TEMPORAL_PROFILE": "prod"}
    assert TemporalTarget.from_environment(env).address == "prod.example:7233"
    over = TemporalTarget.from_environment({**env, "TEMPORAL_NAMESPACE": "ns-other"})
    assert (over.address, over.namespace) == ("prod.example:7233", "ns-other")
    meta = TemporalTarget.from_environment({**env, "TEMPORAL_GRPC_META_X_RUN": "7"})
    assert meta.rpc_metadata == {"x-team": "onboarding", "x-run": "7"}


def test_empty_variables_count_as_unset(tmp_path: Path) -> None:
    """Compose passes an unset `${TEMPORAL_TLS:-}` through as an empty string."""
    blank = {name: "" for name in VARIABLES}
    assert TemporalTarget.from_environment(blank) == TemporalTarget.from_environment({})


@pytest.mark.parametrize(("value", "tls"), [("true", True), ("1", True), ("false", False)])
def test_tls_on_and_off(value: str, tls: bool) -> None:
    target = TemporalTarget.from_environment({"TEMPORAL_TLS": value})
    assert (target.tls is not None) is tls


@pytest.mark.parametrize("value", ["yes", "off", "no", "enabled"])
def test_a_tls_word_that_would_silently_mean_on_is_refused(value: str) -> None:
    with pytest.raises(TemporalSettingError, match=rf"^TEMPORAL_TLS: '{value}' is not one of"):
        TemporalTarget.from_environment({"TEMPORAL_TLS": value})


def test_an_api_key_alone_turns_tls_on_and_travels_with_the_connection(tmp_path: Path) -> None:
    path = profile_file(tmp_path, '[profile.default]\naddress = "x.tmprl.cloud:7233"\n'
                        'api_key = "k-123"\n')  # fmt: skip
    target = TemporalTarget.from_environment({"TEMPORAL_CONFIG_FILE": str(path)})
    options = target.connect_options()
    assert options["api_key"] == "k-123"
    assert options["tls"] is not False and target.tls is not None
    assert target.tls.server_root_ca_cert is None, "the system's roots"
    assert "k-123" not in repr(target) and "k-123" not in target.describe()
    assert target.describe().endswith("TLS + API key")


def test_tls_false_wins_over_an_api_key() -> None:
    target = TemporalTarget.from_environment({"TEMPORAL_API_KEY": "k", "TEMPORAL_TLS": "false"})
    assert target.tls is None and target.api_key == "k"


def test_mtls_files_are_read_at_start_up(pki: Pki) -> None:
    target = TemporalTarget.from_environment(pki.mtls_environment("127.0.0.1:7233"))
    assert target.tls is not None
    assert target.tls.client_cert == pki.client_cert.read_bytes()
    assert target.tls.client_private_key == pki.client_key.read_bytes()
    assert target.tls.server_root_ca_cert == pki.ca.read_bytes()
    assert target.tls.domain == SERVER_NAME
    assert target.describe().endswith("mTLS")


def test_data_forms_work_as_paths_do(pki: Pki) -> None:
    env = {
        "TEMPORAL_TLS_CLIENT_CERT_DATA": pki.client_cert.read_text(),
        "TEMPORAL_TLS_CLIENT_KEY_DATA": pki.client_key.read_text(),
    }
    target = TemporalTarget.from_environment(env)
    assert target.tls is not None and target.tls.client_cert == pki.client_cert.read_bytes()


def refusal(env: dict[str, str]) -> str:
    with pytest.raises(TemporalSettingError) as refused:
        TemporalTarget.from_environment(env)
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_a_missing_certificate_file_names_the_variable(pki: Pki) -> None:
    env = {**pki.mtls_environment("a:1"), "TEMPORAL_TLS_CLIENT_CERT_PATH": "/no/such.pem"}
    assert refusal(env) == (
        "TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read /no/such.pem: No such file or directory"
    )


def test_an_unreadable_certificate_names_the_variable(pki: Pki, tmp_path: Path) -> None:
    env = {**pki.mtls_environment("a:1"), "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(tmp_path)}
    assert (
        refusal(env) == f"TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read {tmp_path}: Is a directory"
    )


def test_a_file_named_by_the_profile_names_the_profile_key(pki: Pki, tmp_path: Path) -> None:
    path = profile_file(
        tmp_path,
        '[profile.prod]\naddress = "a:1"\n[profile.prod.tls]\n'
        f'client_cert_path = "/gone/client.pem"\nclient_key_path = "{pki.client_key}"\n',
    )
    message = refusal({"TEMPORAL_CONFIG_FILE": str(path), "TEMPORAL_PROFILE": "prod"})
    assert message == (
        f'tls.client_cert_path of profile "prod" in {path}: cannot read /gone/client.pem: '
        "No such file or directory"
    )


def test_a_key_that_is_not_the_certificate_s(pki: Pki) -> None:
    env = {**pki.mtls_environment("a:1"), "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pki.server_key)}
    assert refusal(env) == (
        "TEMPORAL_TLS_CLIENT_KEY_PATH: the key does not match the certificate of "
        "TEMPORAL_TLS_CLIENT_CERT_PATH"
    )


def test_a_certificate_without_its_key(pki: Pki) -> None:
    env = {"TEMPORAL_TLS_CLIENT_CERT_PATH": str(pki.client_cert)}
    assert refusal(env).startswith("TEMPORAL_TLS_CLIENT_KEY_PATH: not set;")


@pytest.mark.parametrize(
    "which", ["TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_CLIENT_CERT_PATH"]
)
def test_a_file_that_is_no_certificate(pki: Pki, tmp_path: Path, which: str) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    env = {**pki.mtls_environment("a:1"), which: str(junk)}
    assert refusal(env) == f"{which}: not a PEM certificate"


def test_a_key_that_is_no_key(pki: Pki) -> None:
    env = {**pki.mtls_environment("a:1"), "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pki.client_cert)}
    assert refusal(env) == "TEMPORAL_TLS_CLIENT_KEY_PATH: not an unencrypted PEM private key"


def test_profile_problems(tmp_path: Path) -> None:
    assert refusal({"TEMPORAL_CONFIG_FILE": str(tmp_path / "none.toml")}) == (
        f"TEMPORAL_CONFIG_FILE: no such file: {tmp_path / 'none.toml'}"
    )
    good = profile_file(tmp_path, '[profile.default]\naddress = "a:1"\n')
    assert refusal({"TEMPORAL_CONFIG_FILE": str(good), "TEMPORAL_PROFILE": "prod"}) == (
        "TEMPORAL_PROFILE: Profile 'prod' not found"
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("[profile.default\naddress =")
    assert refusal({"TEMPORAL_CONFIG_FILE": str(bad)}).startswith(
        "TEMPORAL_CONFIG_FILE: Configuration loading error: TOML parse error"
    )


@pytest.mark.parametrize("address", ["temporal", "http://temporal:7233", "a:b", ":7233"])
def test_an_address_that_is_not_host_and_port(address: str) -> None:
    assert refusal({"TEMPORAL_ADDRESS": address}) == (
        f"TEMPORAL_ADDRESS: {address!r} is not host:port (no scheme)"
    )


# --- what each failure means: the client's own words, as it gave them ---------------------

PREFIX = "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
AFTER = "Failed client connect: `get_system_info` call error after connection: "
UNKNOWN_ISSUER = (
    PREFIX + "ConnectError(Custom { kind: InvalidData, error: InvalidCertificate(UnknownIssuer) }))"
)
WRONG_NAME = PREFIX + (
    "ConnectError(Custom { kind: InvalidData, error: InvalidCertificate(NotValidForNameContext { "
    'expected: DnsName("wrong.test"), presented: ["DnsName(\\"temporal.test\\")"] }) }))'
)
NOT_TLS = (
    PREFIX
    + "ConnectError(Custom { kind: InvalidData, error: InvalidMessage(InvalidContentType) }))"
)
MISMATCH = PREFIX + "InconsistentKeys(KeyMismatch))"
REFUSED = PREFIX + (
    'ConnectError(ConnectError("tcp connect error", 127.0.0.1:1, Os { code: 111, kind: '
    'ConnectionRefused, message: "Connection refused" })))'
)
NO_NAME = PREFIX + (
    'ConnectError(ConnectError("dns error", Custom { kind: Uncategorized, error: "failed to '
    'lookup address information: Name or service not known" })))'
)
HUNG_UP = AFTER + (
    'Status { code: Unknown, message: "transport error", source: Some(tonic::transport::Error('
    'Transport, hyper::Error(Io, Custom { kind: BrokenPipe, error: "stream closed because of a '
    'broken pipe" }))) }'
)
# TLS 1.3: the handshake looks done to the client, and the first call is cut off.
CUT_OFF = AFTER + (
    'Status { code: Cancelled, message: "operation was canceled", source: Some(tonic::transport::'
    'Error(Transport, hyper::Error(Canceled, "connection closed"))) }'
)
UNAUTHENTICATED = AFTER + 'Status { code: Unauthenticated, message: "Request unauthorized.", ... }'
NOT_TEMPORAL = AFTER + (
    'Status { code: Unimplemented, message: "grpc-status header missing, mapped from HTTP status '
    'code 404", metadata: MetadataMap { headers: {} }, source: None }'
)  # fmt: skip


def failure(env: dict[str, str], text: str) -> Exception:
    return explain_failure(TemporalTarget.from_environment(env), RuntimeError(text))


def test_failures_that_name_a_tls_setting(pki: Pki) -> None:
    mtls = pki.mtls_environment("t.example:7233")
    at = "the server at t.example:7233"
    cases = {
        UNKNOWN_ISSUER: "TEMPORAL_TLS_SERVER_CA_CERT_PATH: "
        f"{at} presents a certificate this CA did not sign",
        NOT_TLS: f"TEMPORAL_TLS: {at} does not speak TLS; turn TLS off (TEMPORAL_TLS=false), "
        "or fix TEMPORAL_ADDRESS",
        MISMATCH: "TEMPORAL_TLS_CLIENT_KEY_PATH: the key does not match the client certificate",
        HUNG_UP: f"TEMPORAL_TLS_CLIENT_CERT_PATH: {at} refused the client certificate "
        "(not signed by a CA the server trusts?)",
    }
    for text, message in cases.items():
        problem = failure(mtls, text)
        assert isinstance(problem, TemporalSettingError) and str(problem) == message
    wrong_name = failure({**mtls, "TEMPORAL_TLS_SERVER_NAME": "wrong.test"}, WRONG_NAME)
    assert str(wrong_name) == (
        f"TEMPORAL_TLS_SERVER_NAME: {at} presents a certificate for temporal.test, not wrong.test"
    )
    unnamed = failure({"TEMPORAL_TLS": "true", "TEMPORAL_ADDRESS": "t.example:7233"}, WRONG_NAME)
    assert str(unnamed) == (
        f"TEMPORAL_TLS_SERVER_NAME: {at} presents a certificate for temporal.test, not t.example"
    )


def test_an_unknown_issuer_without_a_ca_asks_for_one() -> None:
    problem = failure({"TEMPORAL_TLS": "true", "TEMPORAL_ADDRESS": "t:1"}, UNKNOWN_ISSUER)
    assert str(problem).startswith("TEMPORAL_TLS_SERVER_CA_CERT_PATH: the server at t:1 presents")


def test_an_api_key_refused_names_where_the_key_came_from(tmp_path: Path) -> None:
    path = profile_file(tmp_path, '[profile.default]\naddress = "c:7233"\napi_key = "k"\n')
    problem = failure({"TEMPORAL_CONFIG_FILE": str(path)}, UNAUTHENTICATED)
    assert str(problem) == (
        f'api_key of profile "default" in {path}: the server at c:7233 refused the API key '
        "(Request unauthorized.)"
    )
    from_variable = failure(
        {"TEMPORAL_API_KEY": "k", "TEMPORAL_ADDRESS": "c:7233"}, UNAUTHENTICATED
    )
    assert str(from_variable).startswith("TEMPORAL_API_KEY: the server at c:7233 refused")
    without = failure({"TEMPORAL_ADDRESS": "c:7233"}, UNAUTHENTICATED)
    assert str(without).startswith("TEMPORAL_API_KEY: the server at c:7233 asks for credentials")


def test_a_server_that_hangs_up_on_a_client_without_a_certificate() -> None:
    for text in (HUNG_UP, CUT_OFF):
        problem = failure({"TEMPORAL_TLS": "true", "TEMPORAL_ADDRESS": "t:1"}, text)
        assert str(problem).startswith("TEMPORAL_TLS_CLIENT_CERT_PATH: the server at t:1 closed")


def test_unreachable_servers_are_not_a_setting_to_fix() -> None:
    for text, cause in [(REFUSED, "connection refused"), (NO_NAME, "the name does not resolve")]:
        problem = failure({"TEMPORAL_ADDRESS": "t:1"}, text)
        assert isinstance(problem, StackUnavailable)
        assert str(problem) == f"cannot reach Temporal at t:1 ({cause})"
    other = failure({"TEMPORAL_ADDRESS": "t:1"}, NOT_TEMPORAL)
    assert isinstance(other, StackUnavailable) and "is not a Temporal frontend" in str(other)


def test_a_plaintext_server_that_hangs_up_is_probed_for_tls() -> None:
    nobody = f"127.0.0.1:{free_port()}"
    assert speaks_tls(nobody) is False
    problem = failure({"TEMPORAL_ADDRESS": nobody}, HUNG_UP)
    assert isinstance(problem, StackUnavailable)
