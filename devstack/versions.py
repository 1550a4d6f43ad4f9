"""Worker Deployment Versions on a local server: make a build current, read how it drains.

What an operator does with `temporal worker deployment set-current-version` and
`describe-version` (docs/operations.md, "Deploying"), for the local stack and the tests:
a build's workflows go to its workers only once it is current, and the server knows a build
only once one of its workers has polled, so `make_current` retries until then.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

from temporalio.api.deployment.v1 import WorkerDeploymentVersion as ProtoVersion
from temporalio.api.enums.v1 import VersionDrainageStatus
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentVersionRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode

# The server decides a build is drained a grace period after its last pinned run closed, and
# checks every so often (minutes by default): these make it seconds on a local server.
FAST_DRAINAGE = (
    "--dynamic-config-value",
    'matching.wv.VersionDrainageStatusVisibilityGracePeriod="1s"',
    "--dynamic-config-value",
    'matching.wv.VersionDrainageStatusRefreshInterval="1s"',
)
# The code whose change makes a new build: what a workflow run executes, and what it calls.
BUILD_SOURCES = ("contracts", "workflows", "activities")


def source_build_id(root: Path, prefix: str = "dev") -> str:
    """A build id for a checkout: the same code, the same build (`dev-<12 hex>`)."""
    digest = hashlib.sha256()
    for folder in BUILD_SOURCES:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".toml"):
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return f"{prefix}-{digest.hexdigest()[:12]}"


async def make_current(
    client: Client, version: WorkerDeploymentVersion, *, timeout: float = 60
) -> None:
    """Route new workflows of the deployment to `version`, once its workers have polled."""
    request = SetWorkerDeploymentCurrentVersionRequest(
        namespace=client.namespace,
        deployment_name=version.deployment_name,
        build_id=version.build_id,
        identity="onboarding dev",
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            await client.workflow_service.set_worker_deployment_current_version(request)
            return
        except RPCError as exc:
            # The server learns of a build, and of its deployment, at its workers' first poll.
            unknown = exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)
            if not unknown or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


async def drainage(client: Client, version: WorkerDeploymentVersion) -> str:
    """`unspecified`, `draining` or `drained`: whether pinned runs still need the build."""
    described = await client.workflow_service.describe_worker_deployment_version(
        DescribeWorkerDeploymentVersionRequest(
            namespace=client.namespace,
            deployment_version=ProtoVersion(
                deployment_name=version.deployment_name, build_id=version.build_id
            ),
        )
    )
    status = described.worker_deployment_version_info.drainage_info.status
    return VersionDrainageStatus.Name(status).removeprefix("VERSION_DRAINAGE_STATUS_").lower()
