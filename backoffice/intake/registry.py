"""Registry results on claims: loading the local dataset, running the verifiers, recording
results the departments send. Services flush; the caller commits."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select

from backoffice.applications.facts import FactsError, check_facts
from backoffice.applications.models import IndicatorClaim, RegistryStatus
from backoffice.audit.services import record
from backoffice.cases.intake import IntakeRefused, filing_rejected
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.intake.models import ClaimDetails, RegistryRecord
from backoffice.outbox.services import request_rescore
from verifiers.reasons import UnknownCode, reason as _reason
from verifiers.registry import FILES, DatasetRegistries, Person, Registries, RegistryResult, parse_file, verify


# The dataset ---------------------------------------------------------------------------------
def _lookup(registry: str, *, key: str | None = None, id_number: str | None = None):
    stmt = select(RegistryRecord.data).where(RegistryRecord.dataset == registry)
    if key is not None:
        stmt = stmt.where(RegistryRecord.record_key == key)
    else:
        stmt = stmt.where(RegistryRecord.id_number == id_number).order_by(RegistryRecord.record_key)
    return db.session.scalars(stmt).all()


def local_registries() -> Registries:
    """The six registries answered from the dataset loaded with ``backoffice registry load``."""
    return DatasetRegistries(_lookup).registries("local")


def load_dataset(directory: str | Path, *, replace: bool = False, actor_label: str = "cli") -> dict[str, dict]:
    """Load the CSV files found in ``directory`` (verifiers/registry/records.py). Every file is
    parsed before anything is written; a row with a known key is updated, never duplicated.
    With ``replace`` the rows of a loaded file's registry that the file no longer has are removed.
    Returns {registry: {"added": n, "updated": n, "unchanged": n, "removed": n}}."""
    directory = Path(directory)
    parsed = {}
    for registry, spec in FILES.items():
        path = directory / spec.filename
        if path.exists():
            parsed[registry] = parse_file(registry, path.read_text(encoding="utf-8"))
    if not parsed:
        raise FileNotFoundError(f"no registry files in {directory}; expected any of "
                                + ", ".join(s.filename for s in FILES.values()))
    summary: dict[str, dict] = {}
    for registry, rows in parsed.items():
        counts = {"added": 0, "updated": 0, "unchanged": 0, "removed": 0}
        existing = {r.record_key: r for r in db.session.scalars(
            select(RegistryRecord).where(RegistryRecord.dataset == registry))}
        for row in rows:
            current = existing.get(row.record_key)
            if current is None:
                db.session.add(RegistryRecord(dataset=registry, record_key=row.record_key,
                                              id_number=row.id_number, data=row.data))
                counts["added"] += 1
            elif current.data != row.data or current.id_number != row.id_number:
                current.data, current.id_number, current.loaded_at = row.data, row.id_number, utcnow()
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        if replace:
            gone = set(existing) - {row.record_key for row in rows}
            if gone:
                db.session.execute(delete(RegistryRecord).where(
                    RegistryRecord.dataset == registry, RegistryRecord.record_key.in_(sorted(gone))))
            counts["removed"] = len(gone)
        summary[registry] = counts
    db.session.flush()
    record("registry.loaded", "registry_dataset", str(directory)[-64:], actor_label=actor_label, after=summary)
    return summary


# Results on claims ---------------------------------------------------------------------------
def _details(claim: IndicatorClaim) -> ClaimDetails:
    found = db.session.get(ClaimDetails, claim.id)
    if found is None:
        found = ClaimDetails(claim_id=claim.id, filed={})
        db.session.add(found)
    return found


def _check_reason(indicator: str, status: str, code: str | None) -> None:
    if code is None:
        return
    try:
        r = _reason(code)
    except UnknownCode:
        raise IntakeRefused("registry.reason_unknown", f"未知的核查结果原因：{code}", f"unknown reason code {code!r}",
                            status=422, field="reason") from None
    if r.indicator != indicator:
        raise IntakeRefused("registry.reason_indicator", f"原因{code}不属于该指标", f"reason {code!r} belongs to "
                            f"{r.indicator!r}, not {indicator!r}", status=422, field="reason")
    # A per-year tax result may be valid overall with some years invalid (比对结果: 有效 (1年)).
    fits = (status == "invalid") == (r.result == "invalid") or code == "tax_year_invalid"
    if not fits:
        raise IntakeRefused("registry.reason_status", f"原因{code}与核查状态{status}不符",
                            f"reason {code!r} is a {r.result!r} result, not {status!r}", status=422, field="status")


def record_result(claim: IndicatorClaim, result: RegistryResult, *, actor_label: str) -> bool:
    """Put a registry result on the claim. Returns False (and changes nothing, not even
    ``checked_at``) when the claim already carries exactly this result: a verifier run twice
    gives the same result and no new rows. A result that changes what scores asks for a rescore."""
    indicator = claim.indicator.value
    if claim.verified_by_decision_id is not None:
        raise IntakeRefused(
            "registry.superseded", "该指标的核查结果已由复查或申诉决定更正，不能再覆盖。",
            "A review or appeal decision has superseded this claim's registry result; it cannot be overwritten.",
        )
    if filing_rejected(claim):
        # 第三篇 二 3.(2): the spouse information found invalid at the window makes the housing
        # "无效(配偶信息无效)"; the applicant deletes or changes the claim and files it again.
        raise IntakeRefused(
            "registry.filing_rejected", "该指标的填报凭证经窗口审核不予支持，核查结果不能再覆盖；请修改后重新填报。",
            "The window rejected the evidence filed with this claim; a registry result cannot overwrite that "
            "until the claim is filed again.",
        )
    if result.status not in ("valid", "invalid"):
        raise IntakeRefused("registry.status", "核查状态应为valid或invalid", "status must be valid or invalid",
                            status=422, field="status")
    _check_reason(indicator, result.status, result.reason)
    if result.verified is not None:
        try:
            check_facts(indicator, result.verified, year=claim.application.year)
        except FactsError as exc:
            path = f"verified.{exc.path}" if exc.path else "verified"
            raise IntakeRefused("registry.verified", f"核实的事实不符合该指标的格式：{exc.message}",
                                f"verified facts do not fit the indicator's shape: {exc.message}",
                                status=422, field=path) from None
    details = _details(claim)
    before = {"status": claim.registry_status, "reason": claim.registry_reason, "message": claim.registry_message,
              "verified": claim.verified, "details": details.registry_details, "source": details.registry_source}
    after = {"status": RegistryStatus(result.status), "reason": result.reason, "message": result.message[:500],
             "verified": result.verified, "details": result.details or None, "source": result.source or None}
    if before == after:
        return False
    claim.registry_status = after["status"]
    claim.registry_reason = result.reason
    claim.registry_message = after["message"]
    claim.verified = result.verified
    claim.checked_at = utcnow()
    details.registry_details = after["details"]
    details.registry_source = after["source"]
    db.session.flush()
    record("claim.checked", "indicator_claim", claim.id, district_id=claim.application.district_id,
           before=before, after=after, actor_label=actor_label)
    if before["verified"] != after["verified"] or before["status"] != after["status"]:
        request_rescore(claim.application_id, trigger="registry")
    return True


def run_verifier(claim: IndicatorClaim, *, registries: Registries | None = None,
                 actor_label: str = "system") -> tuple[RegistryResult | None, bool]:
    """Check one claim against the registries; (result, changed). A claim no registry checks
    (innovation, honours, overseas education …) gives (None, False) and stays as it is."""
    if filing_rejected(claim):
        return None, False  # the window's finding stands (record_result)
    registries = registries or local_registries()
    application = claim.application
    details = db.session.get(ClaimDetails, claim.id)
    applicant = application.applicant
    result = verify(claim.indicator.value, claim.claimed or {}, details.filed if details else {},
                    Person(applicant.id_number, applicant.name), application.year, registries,
                    employer_uscc=application.employer.uscc)
    if result is None:
        return None, False
    return result, record_result(claim, result, actor_label=actor_label)
