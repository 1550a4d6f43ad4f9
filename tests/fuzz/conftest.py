"""The fuzz harness runs on the session's time-skipping server with a stubbed worker."""

from tests.workflow.conftest import worker

__all__ = ["worker"]
