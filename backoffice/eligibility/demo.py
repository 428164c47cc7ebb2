"""The demo year's eligibility queue: an objection (资格异议) per demo window and a unit's licence
case (单位注册), so the queue, its worklist and the workspace panels have something to show."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from backoffice.applications.models import Application
from backoffice.cases.intake import Upload
from backoffice.cases.models import CaseKind, ReviewCase
from backoffice.core.pdf import Document, render
from backoffice.eligibility.models import EligibilityResult, EmployerRegistration
from backoffice.eligibility.services import file_objection, submit_licence
from backoffice.extensions import db
from backoffice.reference.models import District
from verifiers import eligibility as rules
from verifiers.identifiers import sex_of, uscc_check_char

DEMO_UNIT_BODY = "91110105MA01DEMN8"  # 朝阳区; unknown to the tax-registration dataset
DEMO_UNIT_NAME = "北京示范新创科技有限公司"


def seed_eligibility(year: int, today: date, upload_dir: str) -> int:
    """Idempotent; returns the number of cases added."""
    added = 0
    for name in ("朝阳区", "海淀区"):
        district = db.session.scalar(select(District).where(District.name == name))
        if district is None or db.session.scalar(select(ReviewCase.id).where(
                ReviewCase.district_id == district.id, ReviewCase.kind == CaseKind.eligibility_objection)):
            continue
        application = db.session.scalar(select(Application).where(
            Application.district_id == district.id, Application.year == year).order_by(Application.id.desc()).limit(1))
        if application is None:
            continue
        applicant = application.applicant
        # The permit was applied for in the first days of the application year: refused (第一篇 一).
        facts = rules.Facts(year=year, sex=sex_of(applicant.id_number), birth_date=applicant.birth_date,
                            permits=(rules.Permit(f"京居{applicant.id_number[-6:]}", date(year, 1, 6)),),
                            insurance={"pension": {"paid": [[f"{year - 9}-01", f"{year - 1}-12"]], "back_paid": []},
                                       "medical": {"paid": [[f"{year - 9}-01", f"{year - 1}-12"]], "back_paid": []}})
        results = rules.evaluate(facts)
        db.session.add(EligibilityResult(application_id=application.id, eligible=rules.eligible(results), post=None,
                                         conditions=[r.as_dict() for r in results], source="demo"))
        db.session.flush()
        file_objection(application, condition="residence_permit",
                       statement="本人于上一年度12月已在派出所申领居住证，回执在此，系统记录的申领日期有误。",
                       today=today, actor_label="seed-demo")
        added += 1
    uscc = DEMO_UNIT_BODY + uscc_check_char(DEMO_UNIT_BODY)
    district = db.session.scalar(select(District).where(District.name == "朝阳区"))
    if district is not None and db.session.scalar(select(EmployerRegistration.id).where(
            EmployerRegistration.uscc == uscc)) is None:
        pdf = render(Document(title="营业执照", paragraphs=[f"统一社会信用代码 {uscc}", f"名称 {DEMO_UNIT_NAME}",
                                                             "类型 有限责任公司", "住所 北京市朝阳区示范路8号"]))
        submit_licence(uscc=uscc, name=DEMO_UNIT_NAME, district=district, licence=Upload(pdf, "营业执照.pdf"),
                       today=today, actor_label="seed-demo", upload_dir=upload_dir)
        added += 1
    return added
