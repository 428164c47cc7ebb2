"""Registry adapters: one interface per department the claims are checked against.

A real deployment connects each interface to its department (社保, 不动产登记, 住房租赁监管平台,
学信网/学位网, 税务, 公安); ``DatasetRegistries`` answers all six from the local dataset of
``records.py`` through one lookup function (in memory for tests, the database in the app).

Pure: no Flask or SQLAlchemy.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class InsuranceRecord:
    insurance_type: str
    start: str  # YYYY-MM
    end: str
    back_paid: tuple[str, ...]
    district: str
    employer_uscc: str | None = None  # 参保单位
    status: str | None = None  # 缴费状态 (正常 when None)


@dataclass(frozen=True)
class PermitRecord:
    permit_no: str
    id_number: str
    applied_on: str  # YYYY-MM-DD
    status: str


@dataclass(frozen=True)
class CriminalRecordRow:
    id_number: str
    source: str  # judgment | police_certificate
    document_no: str
    decided_on: str
    summary: str | None


@dataclass(frozen=True)
class TaxRegistrationRecord:
    uscc: str
    name: str
    status: str
    registered_on: str | None


@dataclass(frozen=True)
class TitleRecord:
    certificate_no: str
    owner_id: str
    owner_name: str
    district: str
    use: str  # 住宅 | 非住宅
    registered: str  # 登簿日期(填发日期), YYYY-MM
    expires: str | None  # 权证失效日期, YYYY-MM


@dataclass(frozen=True)
class LeaseRecord:
    lease_no: str
    tenant_id_number: str
    district: str
    use: str
    has_title: bool
    needs_verification: bool
    start: str  # YYYY-MM-DD
    end: str


@dataclass(frozen=True)
class EducationRecord:
    record: str  # diploma | degree
    certificate_no: str
    id_number: str
    name: str
    sex: str  # M | F
    birth_date: str
    level: str
    date: str | None  # as recorded


@dataclass(frozen=True)
class PersonRecord:
    id_number: str
    name: str
    sex: str
    birth_date: str


@dataclass(frozen=True)
class DatedRecord:
    decision_no: str
    decided_on: str  # YYYY-MM-DD


@dataclass(frozen=True)
class MarriageRecord:
    spouse_id_number: str
    spouse_name: str
    start: str  # YYYY-MM-DD
    end: str | None


class SocialInsuranceRegistry(Protocol):
    def insurance(self, id_number: str) -> list[InsuranceRecord]: ...


class RealEstateRegistry(Protocol):
    def title(self, certificate_no: str) -> TitleRecord | None: ...


class RentalRegistry(Protocol):
    def lease(self, lease_no: str) -> LeaseRecord | None: ...


class EducationRegistry(Protocol):
    def education(self, record: str, certificate_no: str) -> EducationRecord | None: ...


class TaxRegistry(Protocol):
    def annual_tax(self, id_number: str) -> dict[int, int]: ...
    def tax_violations(self, id_number: str) -> list[DatedRecord]: ...


class PoliceRegistry(Protocol):
    def person(self, id_number: str) -> PersonRecord | None: ...
    def detentions(self, id_number: str) -> list[DatedRecord]: ...
    def marriages(self, id_number: str) -> list[MarriageRecord]: ...


class ResidencePermitRegistry(Protocol):
    def permits(self, id_number: str) -> list[PermitRecord]: ...


class CriminalRecordsRegistry(Protocol):
    def criminal_records(self, id_number: str) -> list[CriminalRecordRow]: ...


class TaxRegistrationRegistry(Protocol):
    def tax_registration(self, uscc: str) -> TaxRegistrationRecord | None: ...


@dataclass(frozen=True)
class Registries:
    """The registries a verifier may consult, and the name stored with each result: the six of
    the indicators, and those of the eligibility conditions and employers (第一篇, 第二篇)."""

    source: str
    social_insurance: SocialInsuranceRegistry
    real_estate: RealEstateRegistry
    rental: RentalRegistry
    education: EducationRegistry
    tax: TaxRegistry
    police: PoliceRegistry
    residence_permits: ResidencePermitRegistry | None = None
    criminal_records: CriminalRecordsRegistry | None = None
    tax_registrations: TaxRegistrationRegistry | None = None


# Lookup(registry, key=..., id_number=...) -> data dicts of matching rows (records.Row.data).
Lookup = Callable[..., Iterable[dict]]


class DatasetRegistries:
    """All six interfaces over the local dataset, given a lookup function."""

    def __init__(self, lookup: Lookup):
        self._lookup = lookup

    def registries(self, source: str = "local") -> Registries:
        return Registries(source, self, self, self, self, self, self, self, self, self)

    def _by_key(self, registry: str, key: str) -> dict | None:
        rows = list(self._lookup(registry, key=key))
        return rows[0] if rows else None

    def _by_person(self, registry: str, id_number: str) -> list[dict]:
        return list(self._lookup(registry, id_number=id_number))

    def insurance(self, id_number: str) -> list[InsuranceRecord]:
        return sorted(
            (InsuranceRecord(d["insurance_type"], d["from"], d["to"], tuple(d.get("back_paid") or ()), d["district"],
                             d.get("employer_uscc"), d.get("status"))
             for d in self._by_person("social_insurance", id_number)),
            key=lambda r: (r.insurance_type, r.start),
        )

    def title(self, certificate_no: str) -> TitleRecord | None:
        d = self._by_key("real_estate", certificate_no)
        if d is None:
            return None
        return TitleRecord(d["certificate_no"], d["owner_id"], d["owner_name"], d["district"], d["use"],
                           d["registered"], d.get("expires"))

    def lease(self, lease_no: str) -> LeaseRecord | None:
        d = self._by_key("rental", lease_no)
        if d is None:
            return None
        return LeaseRecord(d["lease_no"], d["tenant_id_number"], d["district"], d["use"], d["has_title"],
                           d["needs_verification"], d["start"], d["end"])

    def education(self, record: str, certificate_no: str) -> EducationRecord | None:
        d = self._by_key("education", f"{record}|{certificate_no}")
        if d is None:
            return None
        return EducationRecord(d["record"], d["certificate_no"], d["id_number"], d["name"], d["sex"],
                               d["birth_date"], d["level"], d.get("date"))

    def annual_tax(self, id_number: str) -> dict[int, int]:
        return {int(d["year"]): int(d["amount"]) for d in self._by_person("tax", id_number)}

    def tax_violations(self, id_number: str) -> list[DatedRecord]:
        return sorted((DatedRecord(d["decision_no"], d["decided_on"]) for d in self._by_person("tax_violations", id_number)),
                      key=lambda r: r.decided_on)

    def person(self, id_number: str) -> PersonRecord | None:
        d = self._by_key("persons", id_number)
        if d is None:
            return None
        return PersonRecord(d["id_number"], d["name"], d["sex"], d["birth_date"])

    def detentions(self, id_number: str) -> list[DatedRecord]:
        return sorted((DatedRecord(d["decision_no"], d["decided_on"]) for d in self._by_person("detentions", id_number)),
                      key=lambda r: r.decided_on)

    def marriages(self, id_number: str) -> list[MarriageRecord]:
        return sorted((MarriageRecord(d["spouse_id_number"], d["spouse_name"], d["from"], d.get("to"))
                       for d in self._by_person("marriages", id_number)), key=lambda r: r.start)


    def permits(self, id_number: str) -> list[PermitRecord]:
        return sorted((PermitRecord(d["permit_no"], d["id_number"], d["applied_on"], d["status"])
                       for d in self._by_person("residence_permits", id_number)), key=lambda r: r.applied_on)

    def criminal_records(self, id_number: str) -> list[CriminalRecordRow]:
        return sorted((CriminalRecordRow(d["id_number"], d["source"], d["document_no"], d["decided_on"], d.get("summary"))
                       for d in self._by_person("criminal_records", id_number)), key=lambda r: r.decided_on)

    def tax_registration(self, uscc: str) -> TaxRegistrationRecord | None:
        d = self._by_key("tax_registrations", uscc)
        if d is None:
            return None
        return TaxRegistrationRecord(d["uscc"], d["name"], d["status"], d.get("registered_on"))


def in_memory(rows: Iterable) -> Registries:
    """Registries over parsed rows (records.Row), for tests and one-off checks."""
    by_key: dict[tuple[str, str], dict] = {}
    by_person: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        by_key[(row.registry, row.record_key)] = row.data
        if row.id_number:
            by_person.setdefault((row.registry, row.id_number), []).append(row.data)

    def lookup(registry, *, key=None, id_number=None):
        if key is not None:
            found = by_key.get((registry, key))
            return [found] if found is not None else []
        return list(by_person.get((registry, id_number), []))

    return DatasetRegistries(lookup).registries("memory")
