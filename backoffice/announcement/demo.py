"""The demo year's announcement: a published list, open tips with statements, and one
application revoked after a tip (investigator and city supervisor, four eyes). Idempotent."""
from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select

from verifiers.identifiers import resident_id_check_char
from backoffice.announcement import services, tips
from backoffice.announcement.models import PublicationRow, Revocation
from backoffice.applications.models import Application
from backoffice.cases.models import CaseKind, ReviewCase
from backoffice.extensions import db
from backoffice.staff.models import Role, Staff
from backoffice.cases import intake

TIP_STATEMENTS = (
    "该申请人实际并未在所填单位工作，社保为挂靠缴纳，请核查。",
    "该申请人填报的自有住所已于前年出售，居住信息与实际不符。",
    "该申请人的学位证书疑似伪造，与学信网信息不一致。",
)
REVOKED_FINDING = "经市社保中心核查，该申请人2016年至2019年社保缴费系补缴伪造，提供虚假材料。"


_REPORTER_NAMES = ("周建国", "吴晓燕", "郑立新", "冯雪梅", "陈志强")


def _reporter(rng: random.Random) -> tuple[str, str]:
    """A reporter with a real-looking name and a valid ID number (born 1982-03-08 in 东城区)."""
    body = "110101" + date(1982, 3, 8).strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return rng.choice(_REPORTER_NAMES), body + resident_id_check_char(body)


def _tip(application: Application, statement: str, today: date) -> ReviewCase:

    existing = db.session.scalar(select(ReviewCase).where(ReviewCase.application_id == application.id,
                                                          ReviewCase.kind == CaseKind.tip))
    if existing is not None:
        return existing
    year = application.year_ref
    on = min(max(today, year.announcement_start), year.announcement_end)
    name, id_number = _reporter(random.Random(application.id))
    return intake.submit_tip(application, statement=statement, reporter_name=name, reporter_id_number=id_number,
                             reporter_phone=f"139{application.id:08d}"[:11], today=on, actor_label="seed-demo")


def seed_announcement(summary, year: int, today: date) -> None:
    """Called once by backoffice/demo.py:seed after the year is scored."""
    if services.publication_for(year) is None:
        publication = services.publish(year, actor_label="seed-demo")
        summary.created["published list rows"] = publication.row_count
    listed = db.session.scalars(
        select(Application).join(PublicationRow, PublicationRow.application_id == Application.id)
        .order_by(PublicationRow.number).limit(40)
    ).all()
    if len(listed) < 25:
        return
    for application, statement in zip((listed[4], listed[11], listed[17]), TIP_STATEMENTS):
        _tip(application, statement, today)
    target = listed[23]
    if db.session.scalar(select(Revocation.id).where(Revocation.application_id == target.id)) is not None:
        return
    investigator = db.session.scalar(select(Staff).where(Staff.role == Role.investigator).order_by(Staff.id))
    supervisor = db.session.scalar(select(Staff).where(Staff.role == Role.supervisor, Staff.district_id.is_(None))
                                   .order_by(Staff.id))
    if investigator is None or supervisor is None:
        return
    case = _tip(target, "该申请人社保缴费记录系补缴伪造，实际2019年才来京工作。", today)
    tips.claim_tip(case, actor=investigator)
    tips.add_finding(case, actor=investigator, kind="check", department="市社会保险基金管理中心",
                     question="2016年至2019年社保缴费是否为正常缴纳？", answer="为2020年一次性补缴，补缴材料系伪造。")
    tips.close_tip(case, actor=investigator, outcome="falsified", reason=REVOKED_FINDING,
                   ground="falsified_materials", refer_credit=True)
    revocation = db.session.scalar(select(Revocation).where(Revocation.application_id == target.id))
    services.confirm_revocation(revocation, actor=supervisor, confirm=True, note="证据确凿，同意取消。")
    summary.bump("revocations")
