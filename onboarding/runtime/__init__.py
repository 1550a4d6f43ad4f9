"""What every process of ours runs on: settings, secrets, JSON logs and their redaction,
tracing and metrics, the worker's probes, and the selfie store the settings choose."""
