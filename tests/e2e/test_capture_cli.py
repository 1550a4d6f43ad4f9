"""`onboarding start --capture FILE` on the stack as users run it: the SDK's sealed string
(made by the sandbox's capture SDK) stored, sent to Unico as it is, and decided; the image the
person saw (`--selfie` beside it) kept for reviewers only, and gone with the capture."""

from __future__ import annotations

import base64
import json
import signal
from pathlib import Path

import pytest

from devstack.sandbox_client import SandboxClient
from tests.e2e.local_stack import SELFIE, start_stack

pytestmark = pytest.mark.e2e


def test_a_capture_file_is_onboarded_and_a_spoof_rejected(tmp_path: Path) -> None:
    stack = start_stack(tmp_path / "stack")
    try:
        sandbox = SandboxClient(f"http://127.0.0.1:{stack.ports['sandbox']}")
        image = base64.b64encode(SELFIE.read_bytes()).decode()
        outcomes = {}
        for liveness in ("live", "spoof"):
            made = sandbox.request(
                "POST", "captures", {"image_base64": image, "liveness": liveness}
            )
            capture = tmp_path / f"{liveness}.capture"
            capture.write_text(made["capture"] + "\n")  # as an app might save it
            done = stack.onboarding(
                "start", "--cpf", "12345678909", "--name", "Maria Silva",
                "--capture", str(capture), "--selfie", str(SELFIE), "--wait", "--json",
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            outcomes[liveness] = json.loads(done.stdout)["result"]["outcome"]
        previews = tmp_path / "stack" / "selfies" / "previews"
        assert previews.is_dir(), "the previews were kept"
        assert list(previews.iterdir()) == [], "and went with their captures"
        neither = stack.onboarding("start", "--cpf", "12345678909", "--name", "M")
        assert neither.returncode != 0 and "--capture" in neither.stderr
    finally:
        stack.process.send_signal(signal.SIGINT)
        stack.process.communicate(timeout=60)
    assert outcomes == {"live": "approved", "spoof": "rejected"}
