"""Intake: the token-authenticated API of the online application system (a machine
client), the registry verifiers' storage, and the per-client idempotency keys."""
