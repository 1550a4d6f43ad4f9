"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

The names the compose file gives our services are derived from the code: the settings
from the Settings class, the sandbox's from its command line, the search attributes from
the local stack, the Unico queue from the workflow's models. A setting added to
onboarding/settings.py is allowed here as soon as it exists there.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.credentials import EnvProvider

from contracts.review_proof import parse_signer_keys
from devstack.credentials import main as make_compose_keys
from devstack.stack import DevPorts
from onboarding.runtime.settings import Settings, every_setting
from onboarding.temporal.connection import VARIABLES as TEMPORAL_VARIABLES
from onboarding_client.contract.names import (
    SEARCH_ATTRIBUTES,
    TASK_QUEUE,
    queue_for,
    search_attribute_type,
)
from onboarding_client.keyring import Keyring

ROOT = Path(__file__).parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OURS = {name for name, service in SERVICES.items() if "build" in service}
SETTINGS = set(every_setting())
# boto3 reads S3's credentials itself (activities/s3_selfies.py); Settings holds none.
BOTO3_CREDENTIALS = {EnvProvider.ACCESS_KEY, EnvProvider.SECRET_KEY}
PINNED = re.compile(r"^[\w./-]+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$")


def environment(name: str) -> dict[str, Any]:
    env = SERVICES[name].get("environment", {})
    assert isinstance(env, dict), f"{name}: environment as a mapping, so anchors merge"
    return env


def published(name: str) -> list[tuple[str, ...]]:
    """(host address, host port(s), container port) of each published port."""
    return [tuple(str(port).split(":")) for port in SERVICES[name].get("ports", [])]


def test_the_whole_system_is_there() -> None:
    assert {
        "postgresql", "temporal-schema", "temporal", "temporal-namespace", "temporal-ui",
        "worker", "gateway", "console", "sandbox", "minio", "minio-bucket", "jaeger",
    } <= set(SERVICES)  # fmt: skip
    assert {"worker", "gateway", "console", "sandbox"} == OURS


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_image_is_pinned(name: str) -> None:
    image = SERVICES[name]["image"]
    assert PINNED.match(image), f"{name}: {image} names no tag or digest"
    assert not image.endswith(":latest")


def test_our_images_are_tagged_with_the_project_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    images = {name: SERVICES[name]["image"] for name in OURS}
    assert images.pop("sandbox") == f"unico-onboarding-sandbox:{version}"
    assert set(images.values()) == {f"unico-onboarding:{version}"}


def test_the_product_image_carries_no_sandbox_and_names_its_build() -> None:
    """The worker and the gateway run the `product` target: the product install alone. Its
    build id comes from BUILD_ID, the same the one-shot `worker-version` makes current."""
    stages = re.split(r"^FROM ", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)[1:]
    by_name = {stage.split("\n", 1)[0].split(" AS ")[-1].strip(): stage for stage in stages}
    chain = by_name["base"] + by_name["product"]
    assert "sandbox" not in chain and "devstack" not in chain and "devtools" not in chain
    assert "TEMPORAL_WORKER_BUILD_ID=${BUILD_ID}" in by_name["product"]
    for name in ("worker", "gateway"):
        assert SERVICES[name]["build"]["target"] == "product", name
    assert SERVICES["sandbox"]["build"]["target"] == "sandbox"
    promote = " ".join(SERVICES["worker-version"]["entrypoint"])
    assert "set-current-version --deployment-name onboarding" in promote
    assert "${BUILD_ID:-1.0.0}" in promote
    assert SERVICES["worker"]["build"]["args"]["BUILD_ID"] == "${BUILD_ID:-1.0.0}"


def test_published_ports_are_the_local_stacks_and_bind_loopback() -> None:
    ports = DevPorts()
    assert published("temporal") == [("127.0.0.1", str(ports.temporal), "7233")]
    assert published("temporal-ui") == [("127.0.0.1", str(ports.ui), "8080")]
    assert published("gateway") == [("127.0.0.1", str(ports.gateway), "8088")]
    assert published("sandbox") == [("127.0.0.1", str(ports.sandbox), "8089")]
    for name in SERVICES:
        assert all(host == "127.0.0.1" for host, _, _ in published(name)), name


@pytest.mark.parametrize("name", ["worker", "gateway"])
def test_our_services_set_only_settings_that_exist(name: str) -> None:
    unknown = set(environment(name)) - SETTINGS - BOTO3_CREDENTIALS - set(TEMPORAL_VARIABLES)
    assert not unknown, f"{name} sets {unknown}, which onboarding/settings.py does not read"


@pytest.mark.parametrize("name", ["worker", "gateway"])
def test_temporal_s_connection_variables_pass_through_from_the_shell(name: str) -> None:
    """Any Temporal, as the `temporal` CLI would reach it: each variable from the shell, this
    file's own cluster by default; the files they name under the mounted client folder."""
    env = environment(name)
    defaults = {"TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "default"}
    path_forms = [v for v in TEMPORAL_VARIABLES if not v.endswith("_DATA")]
    for variable in path_forms:
        assert env.get(variable) == f"${{{variable}:-{defaults.get(variable, '')}}}", variable
    assert any(v.endswith(":/etc/temporal-client:ro") for v in SERVICES[name]["volumes"])


def test_the_gateway_takes_every_webhook_setting_with_the_code_s_default() -> None:
    """The webhook receiver is the gateway's: each WEBHOOK_* setting is passed through from
    the shell, defaulting to what Settings says (empty for none); the worker takes none."""
    webhook = {name: field for name, field in Settings.model_fields.items() if "webhook" in name}
    assert webhook, "Settings has the webhook settings"
    gateway = environment("gateway")
    for name, field in webhook.items():
        default = "" if field.default is None else str(field.default)
        assert gateway.get(name.upper()) == f"${{{name.upper()}:-{default}}}", name.upper()
    assert not set(environment("worker")) & {name.upper() for name in webhook}


def test_the_worker_and_gateway_agree_on_where_things_are() -> None:
    worker, gateway = environment("worker"), environment("gateway")
    assert worker["TEMPORAL_ADDRESS"] == gateway["TEMPORAL_ADDRESS"]
    assert worker["SELFIE_DIR"] == gateway["SELFIE_DIR"]
    assert worker["GATEWAY_URL"] == f"http://gateway:{gateway['GATEWAY_PORT']}"
    assert worker["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
    assert worker["HEALTH_BIND_ADDRESS"].endswith(":8091")
    assert "8091/readyz" in " ".join(SERVICES["worker"]["healthcheck"]["test"])


def test_the_worker_and_gateway_share_the_payload_keys_and_minio_s_bucket() -> None:
    worker, gateway = environment("worker"), environment("gateway")
    for name in ("worker", "gateway"):
        assert "onboarding_encryption_keys" in SERVICES[name]["secrets"], name
        assert "minio-bucket" in SERVICES[name]["depends_on"], name
    keys_file = "/run/secrets/onboarding_encryption_keys"
    assert worker["ONBOARDING_ENCRYPTION_KEYS_FILE"] == keys_file
    assert gateway["ONBOARDING_ENCRYPTION_KEYS_FILE"] == keys_file
    assert COMPOSE["secrets"]["onboarding_encryption_keys"]["file"].endswith(
        "./.state/compose/keys/payload-keys}"
    )
    s3 = {key: value for key, value in worker.items() if key.startswith(("SELFIE_", "AWS_"))}
    assert s3 == {key: gateway[key] for key in s3}
    assert worker["SELFIE_STORE"] == "${SELFIE_STORE:-s3}"
    assert worker["SELFIE_S3_ENDPOINT_URL"] == "http://minio:9000"
    minio = environment("minio")
    assert worker[EnvProvider.ACCESS_KEY] == minio["MINIO_ROOT_USER"]
    assert worker[EnvProvider.SECRET_KEY] == minio["MINIO_ROOT_PASSWORD"]
    assert environment("minio-bucket")["SELFIE_S3_BUCKET"] == worker["SELFIE_S3_BUCKET"]


def test_the_gateway_s_codec_server_lets_the_web_ui_in() -> None:
    gateway = environment("gateway")
    origins = gateway["CODEC_CORS_ORIGINS"].split(",")
    assert f"http://localhost:{DevPorts().ui}" in origins
    assert f"http://127.0.0.1:{DevPorts().ui}" in origins
    assert gateway["CODEC_AUTH_TOKEN"] == "${CODEC_AUTH_TOKEN:-}"
    assert gateway["CODEC_DEV_TRUSTED_ORIGINS"] == "${CODEC_DEV_TRUSTED_ORIGINS:-}"
    assert not {"CODEC_AUTH_TOKEN", "CODEC_DEV_TRUSTED_ORIGINS"} & set(environment("worker"))


def test_the_worker_gets_longer_than_its_drain_before_sigkill() -> None:
    grace = SERVICES["worker"]["stop_grace_period"]
    assert grace.endswith("s")
    assert int(grace[:-1]) > int(environment("worker")["GRACEFUL_SHUTDOWN_SECONDS"])


def test_the_sandbox_runs_only_behind_its_profile() -> None:
    assert SERVICES["sandbox"]["profiles"] == ["sandbox"]
    for name, service in SERVICES.items():
        depends = service.get("depends_on", {})
        if name != "sandbox" and "sandbox" in depends:
            assert depends["sandbox"]["required"] is False, f"{name} needs the sandbox"


def test_the_sandbox_environment_is_what_its_command_line_reads() -> None:
    # The sandbox as a command (tests reach it only from outside): its flags' help names them.
    help_text = subprocess.run(
        [sys.executable, "-m", "sandbox", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for variable in environment("sandbox"):
        assert variable in help_text, f"the sandbox reads no {variable}"
    worker = environment("worker")
    assert environment("sandbox")["SANDBOX_API_KEY"] == worker["UNICO_API_KEY"]
    assert environment("sandbox")["SANDBOX_AUDIENCE"] == "http://sandbox:8089"
    assert worker["UNICO_AUTH_URL"].endswith("http://sandbox:8089}")


def test_the_web_ui_decodes_through_the_gateway_as_the_browser_sees_it() -> None:
    codec = environment("temporal-ui")["TEMPORAL_CODEC_ENDPOINT"]
    assert f"http://localhost:{DevPorts().gateway}/" in codec


def test_temporal_is_set_up_for_the_workflow() -> None:
    script = (ROOT / "deploy/temporal/setup-namespace.sh").read_text()
    for attribute in SEARCH_ATTRIBUTES:
        assert f"{attribute.name}={search_attribute_type(attribute)}" in script
    dynamic = yaml.safe_load((ROOT / "deploy/temporal/dynamicconfig.yaml").read_text())
    for key in ("matching.numTaskqueueReadPartitions", "matching.numTaskqueueWritePartitions"):
        assert dynamic[key] == [
            {"value": 1, "constraints": {"taskQueueName": queue_for("unico", TASK_QUEUE)}}
        ]
    assert environment("temporal")["DYNAMIC_CONFIG_FILE_PATH"] == (
        "config/dynamicconfig/onboarding.yaml"
    )


def test_every_file_the_stack_mounts_is_in_the_repository() -> None:
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), f"{name} mounts missing {source}"


def test_the_dockerfile_builds_from_a_pinned_base_as_a_plain_user() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    base = next(line.split()[1] for line in lines if line.startswith("FROM "))
    assert PINNED.match(base) and ":latest" not in base
    assert any(line.startswith("USER ") and "root" not in line for line in lines)
    for line in lines:
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"the Dockerfile copies missing {source}"


def test_compose_keys_are_made_once_where_the_secrets_point(tmp_path: Path) -> None:
    secrets = COMPOSE["secrets"]
    assert secrets["unico_private_key"]["file"].endswith(
        "./.state/compose/keys/service-account.pem}"
    )
    assert secrets["unico_public_key"]["file"] == "./.state/compose/keys/service-account.pub.pem"
    assert make_compose_keys([str(tmp_path)]) == 0
    private = tmp_path / "keys" / "service-account.pem"
    first = private.read_bytes()
    assert private.stat().st_mode & 0o777 == 0o644, "readable by the containers' user"
    assert make_compose_keys([str(tmp_path)]) == 0
    assert private.read_bytes() == first, "made once: the sandbox keeps trusting it"
    keyring = tmp_path / "keys" / "payload-keys"
    assert keyring.stat().st_mode & 0o777 == 0o644, "readable by the containers' user"
    assert Keyring.parse(keyring.read_text()).key_ids == ["dev-1"]
    assert (tmp_path / "keys" / "codec-token").read_text().strip()
    assert (tmp_path / "keys" / "gateway-token").read_text().strip()
    # The console signs with its key; the workers trust the entry made from it.
    signing = tmp_path / "keys" / "console-signing.pem"
    assert signing.stat().st_mode & 0o777 == 0o644, "readable by the containers' user"
    trusted = parse_signer_keys((tmp_path / "keys" / "review-signer-keys").read_text())
    assert sorted(trusted) == ["dev-console-1"]
    assert secrets["console_signing_key"]["file"].endswith("keys/console-signing.pem}")
    assert secrets["review_signer_keys"]["file"].endswith("keys/review-signer-keys}")
    assert environment("worker")["REVIEW_SIGNER_KEYS_FILE"] == "/run/secrets/review_signer_keys"


def test_the_console_runs_only_behind_its_profile_with_the_company_s_provider() -> None:
    console = SERVICES["console"]
    assert console["profiles"] == ["console"]
    env = environment("console")
    assert env["CONSOLE_OIDC_ISSUER"] == "${CONSOLE_OIDC_ISSUER:-}"
    assert env["CONSOLE_SIGNING_KEY_FILE"] == "/run/secrets/console_signing_key"
    assert env["CONSOLE_SIGNING_KEY_ID"].endswith("dev-console-1}"), "the compose keys' id"


def test_the_gateway_takes_its_upload_token_from_the_shell() -> None:
    gateway = environment("gateway")
    assert gateway["GATEWAY_API_TOKEN"] == "${GATEWAY_API_TOKEN:-}"
    routes = Settings.model_fields["gateway_routes"].default
    assert gateway["GATEWAY_ROUTES"] == f"${{GATEWAY_ROUTES:-{routes}}}"
    assert "GATEWAY_API_TOKEN" not in environment("worker")
