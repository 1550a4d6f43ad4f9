"""The Unico stand-in: the token endpoint (`auth`), the process API (`processes`) with its
test CPFs (`cpf_scenarios`) and image checks (`images`), webhooks (`webhooks`) and the
per-tenant rate limit (`ratelimit`)."""
