"""The application shell around the workflow and its activities, one sub-package per role.

- `temporal/`: how every process reaches Temporal (connection, client library, data
  converter with payload encryption, the operator's view set at start);
- `gateway/`: the HTTP service (selfie uploads, Unico's webhook, the codec server);
- `cli/`: the `onboarding` command;
- `dev/`: the local stack and what it needs (dev credentials, the scenario CPFs, the demo);
- `runtime/`: what every process of ours runs on (settings, secrets, logs and their
  redaction, telemetry, the worker's probes, the selfie store it uses).
"""
