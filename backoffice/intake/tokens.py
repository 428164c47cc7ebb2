"""Bearer tokens for machine clients: one per client, shown once, stored as a SHA-256."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from backoffice.audit.services import record
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.intake.models import ApiClient
from backoffice.intake.openapi import SCOPES

TOKEN_PREFIX = "bo_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(name: str, scopes, *, rotate: bool = False, actor_label: str = "cli") -> tuple[ApiClient, str]:
    """Create the client (or, with ``rotate``, replace its token and scopes); returns the
    client and the token, which is not stored and cannot be shown again."""
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValueError(f"unknown scopes {unknown}; choose from {', '.join(SCOPES)}" if unknown else "give at least one scope")
    name = name.strip()
    if not name or len(name) > 64:
        raise ValueError("the client name must have 1 to 64 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits
    client = db.session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is not None and not rotate:
        raise ValueError(f"client {name!r} exists; use --rotate to issue a new token (the old one stops working)")
    before = None
    if client is None:
        client = ApiClient(name=name, token_sha256=token_hash(token), scopes=" ".join(scopes))
        db.session.add(client)
    else:
        before = {"scopes": client.scopes, "revoked": client.revoked_at is not None}
        client.token_sha256, client.scopes, client.revoked_at = token_hash(token), " ".join(scopes), None
    db.session.flush()
    record("api_client.token_issued", "api_client", client.id, actor_label=actor_label, before=before,
           after={"name": name, "scopes": client.scopes})
    return client, token


def revoke(name: str, *, actor_label: str = "cli") -> ApiClient:
    client = db.session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise ValueError(f"no client {name!r}")
    client.revoked_at = utcnow()
    db.session.flush()
    record("api_client.revoked", "api_client", client.id, actor_label=actor_label, after={"name": name})
    return client


def authenticate(token: str) -> ApiClient | None:
    if not token or len(token) > 200:
        return None
    client = db.session.scalar(select(ApiClient).where(ApiClient.token_sha256 == token_hash(token)))
    if client is None or client.revoked_at is not None:
        return None
    return client
