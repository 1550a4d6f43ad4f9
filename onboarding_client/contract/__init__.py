"""The contract between a calling service and the onboarding workflow: its names (workflow,
task queue, id, updates, queries, search attributes), its input and its result, its status,
its review record and the vocabulary of outcomes and reasons. Pure declarations: safe in
the workflow sandbox, free of any I/O; `schema/*.json` is their JSON Schema."""
