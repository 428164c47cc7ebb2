"""Intake tables: API clients and their idempotency keys, the local registry dataset,
what was filed with a claim beside the registry's display fields, and tip reporters."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.core.crypto import SealedString
from backoffice.core.db import JSONType, UTCDateTime, utcnow
from backoffice.extensions import db


class ApiClient(db.Model):
    """A machine client (the online application system). Its bearer token is stored as a
    SHA-256: the token has 256 bits of entropy, so a plain hash cannot be brute-forced and
    lets a request be authenticated with one indexed lookup."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated scope codes (backoffice.intake.tokens.SCOPES).
    scopes: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def __str__(self) -> str:
        return self.name


class IdempotencyRecord(db.Model):
    """The first successful answer to a POST with an Idempotency-Key, per client; a repeat
    gets the same answer and creates nothing."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(300))
    # SHA-256 of the request as parsed (JSON canonicalised; multipart fields and file hashes),
    # so a retry with a new multipart boundary is still the same request.
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RegistryRecord(db.Model):
    """One row of the local registry dataset (``backoffice registry load DIR``)."""

    __tablename__ = "registry_records"
    __table_args__ = (UniqueConstraint("dataset", "record_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # verifiers.registry.records.FILES key, e.g. "real_estate".
    dataset: Mapped[str] = mapped_column(String(24))
    record_key: Mapped[str] = mapped_column(String(160))
    id_number: Mapped[str | None] = mapped_column(String(18))
    data: Mapped[dict] = mapped_column(JSONType)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


Index("ix_registry_records_person", RegistryRecord.dataset, RegistryRecord.id_number)


class ClaimDetails(db.Model):
    """Beside a claim's facts (IndicatorClaim.claimed, the score-input shape): what the
    applicant entered to identify the registry record (certificate or lease number, owner
    relation, the names on a diploma), and the registry's own display fields of the last
    check (房源审核状态, 登簿日期, 权证失效日期, 年度结果 …) for the reviewer."""

    __tablename__ = "claim_details"

    claim_id: Mapped[int] = mapped_column(ForeignKey("indicator_claims.id"), primary_key=True)
    filed: Mapped[dict] = mapped_column(JSONType, default=dict)
    registry_details: Mapped[dict | None] = mapped_column(JSONType)
    registry_source: Mapped[str | None] = mapped_column(String(32))


class TipReport(db.Model):
    """The real-name reporter of a tip (举报) and the report; only investigators see it
    (第五篇: 严格为举报人保密), so it is kept apart from the case row. The reporter's
    fields are sealed at rest (Fernet tokens, backoffice/core/crypto.py)."""

    __tablename__ = "tip_reports"

    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), primary_key=True)
    reporter_name: Mapped[str] = mapped_column(SealedString())
    reporter_id_number: Mapped[str] = mapped_column(SealedString())
    reporter_phone: Mapped[str | None] = mapped_column(SealedString())
    statement: Mapped[str] = mapped_column(Text)
