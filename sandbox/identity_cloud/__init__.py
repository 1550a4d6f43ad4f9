"""The Akamai Identity Cloud stand-in: the entity API (`entity_api`) over the `user` records
(`store`, `schema`, `filters`), its client credentials (`auth`), its error envelope (`errors`)
and its rate limit (`ratelimit`). Every answer is HTTP 200 with a `stat` field."""
