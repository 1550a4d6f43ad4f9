"""The one history the worker deletes: a run whose input came in clear (contracts/sealing.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.service import RPCError, RPCStatusCode

from contracts.activity import implements
from contracts.sealing import RunToForget, forget_run


class HistoryKeeper:
    def all(self) -> Sequence[Callable[..., Any]]:
        return [self.forget_run]

    @implements(forget_run)
    async def forget_run(self, run: RunToForget) -> None:
        """Through the worker's own client: it needs the right to delete executions."""
        client = activity.client()
        request = DeleteWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=run.workflow_id, run_id=run.run_id),
        )
        try:
            await client.workflow_service.delete_workflow_execution(request)
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
