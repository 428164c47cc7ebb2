"""Settlement cases for the demo, only for qualified applicants.

The demo year itself is still in its announcement, so nobody in it is qualified yet. The
settlement work comes from two earlier years: the year before (announcement closed about a
year ago; ranked, the admitted applicants qualified at its close; most have submitted their
调京信息 — with children, on both housing routes, own home and the employer's 集体户 — one
waits for the city's approval, one is approved with its letters) and a year three years
back whose two years have run out, with one lapsed case (逾期视为放弃).

Deterministic and idempotent: applicants are found again by their ID numbers.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from backoffice.applications.models import Applicant, Application, Indicator, IndicatorClaim, RegistryStatus
from backoffice.cases.services import uploaded_slots
from backoffice.core.pdf import Document, render
from backoffice.extensions import db
from backoffice.intake.models import ClaimDetails
from backoffice.ranking.services import rank_year
from backoffice.reference.models import District, Employer, Year
from backoffice.settlement import services
from backoffice.settlement.models import SettlementCase
from backoffice.staff.models import Role, Staff
from verifiers.identifiers import resident_id_check_char

ACTOR = "seed-demo"
# (district, place, children as (name, birth date, order), submitted, state)
PLANS = (
    ("朝阳区", "own_home", (("小宇", "2012-04-18", 1),), "received"),
    ("朝阳区", "collective", (("小雨", "2016-08-02", 1), ("小雪", "2019-11-20", 2)), "received"),
    ("朝阳区", "own_home", (("小博", "2010-03-09", 1), ("小文", "2014-07-15", 2)), "received"),
    ("朝阳区", "public_direct", (), "received"),
    ("朝阳区", "own_home", (("小航", "2013-01-30", 1),), "sent_to_city"),
    ("朝阳区", "collective", (), "approved"),
    ("朝阳区", "own_home", (), "awaiting_submission"),
    ("海淀区", "own_home", (("小涵", "2015-05-05", 1),), "received"),
    ("海淀区", "collective", (), "received"),
)
NAMES = ("周建华", "吴晓丽", "郑志强", "冯雅静", "陈国栋", "褚海燕", "卫东明", "蒋丽娜", "沈立新", "韩梅")


def _id(n: int, born: date) -> str:
    # A fixed sequence number per plan: a second run finds the same applicants.
    body = "110105" + born.strftime("%Y%m%d") + f"{900 + n:03d}"
    return body + resident_id_check_char(body)


def _year(year: int, announcement_end: date) -> Year:
    found = db.session.get(Year, year)
    if found is not None:
        return found
    d = lambda n: announcement_end + timedelta(days=n)  # noqa: E731
    found = Year(year=year, quota=6000, application_start=d(-188), application_end=d(-158),
                 result_query_start=d(-72), result_query_end=d(-58), announcement_start=d(-6),
                 announcement_end=announcement_end, settlement_start=d(1), settlement_end=d(730))
    db.session.add(found)
    db.session.flush()
    return found


def _employer(district_name: str) -> Employer:
    district = db.session.scalar(select(District).where(District.name == district_name))
    return db.session.scalar(select(Employer).where(Employer.district_id == district.id).order_by(Employer.id))


def _application(rng, n: int, year: Year, district: str, place: str, summary) -> Application:
    born = date(1980 + n % 10, 1 + n % 12, 1 + n % 27)
    id_number = _id(n, born)
    applicant = db.session.scalar(select(Applicant).where(Applicant.id_number == id_number))
    if applicant is None:
        applicant = Applicant(id_number=id_number, name=NAMES[n % len(NAMES)], birth_date=born,
                              phone=f"139{10000000 + 7919 * n}")
        db.session.add(applicant)
        db.session.flush()
    application = db.session.scalar(select(Application).where(Application.applicant_id == applicant.id,
                                                               Application.year == year.year))
    if application is not None:
        return application
    employer = _employer(district)
    application = Application(applicant_id=applicant.id, year=year.year, employer_id=employer.id,
                              district_id=employer.district_id, total=110 + n,
                              submitted_at=datetime.combine(year.application_start, time(9), tzinfo=timezone.utc))
    db.session.add(application)
    db.session.flush()
    if place != "collective":  # the collective route is for families without a home of their own
        claim = IndicatorClaim(application_id=application.id, indicator=Indicator.housing,
                               claimed={"type": "own", "from": "2014-06", "to": f"{year.year - 1}-12",
                                        "district": district},
                               registry_status=RegistryStatus.valid, verified=None)
        claim.verified = dict(claim.claimed)
        db.session.add(claim)
        db.session.flush()
        db.session.add(ClaimDetails(claim_id=claim.id, filed={"certificate_no": f"X京房权证字第{id_number[-6:]}号",
                                                              "owner": "spouse" if n % 3 == 2 else "self"}))
    summary.bump("settlement applications")
    return application


def _files(application, slots) -> dict[str, bytes]:
    name = application.applicant.name
    return {slot: render(Document(title=f"{name} · {slot}", paragraphs=[f"演示材料：{name}（{slot}）"]))
            for slot in slots}


def _child(rng, name: str, born: str, order: int) -> dict:
    body = "110105" + born.replace("-", "") + f"{rng.randrange(1000):03d}"
    return {"name": name, "id_number": body + resident_id_check_char(body), "birth_date": born,
            "birth_order": order, "parent": "father"}


def _submit(rng, application, place, children, on: date):
    certificate = None
    if place != "collective":
        details = db.session.scalar(select(ClaimDetails).join(IndicatorClaim, IndicatorClaim.id == ClaimDetails.claim_id)
                                    .where(IndicatorClaim.application_id == application.id))
        certificate = details.filed["certificate_no"] if details else "公房租赁合同第1号"
    submission = services.Submission(
        place=place, place_address="北京市朝阳区望京街道某小区3号楼" if place != "collective" else "单位集体户",
        place_certificate_no=certificate if place != "public_direct" else "直管公房租赁合同第2021-018号",
        family_owns_home=False, has_archive=True, children=tuple(_child(rng, *c) for c in children))
    # One PDF per document of the checklist (issue 17 §6: nothing is 合格 without its file); of a
    # family-planning group ("只需提供任意一项"), its first proof.
    slots, groups = [], set()
    for item in services.checklist_for(application, submission):
        if item.one_of is None or item.one_of not in groups:
            slots.append(item.code)
            groups.add(item.one_of)
    return services.submit(application, submission, _files(application, slots), today=on, actor_label=ACTOR)


def seed_settlement(summary, year: int, today: date) -> None:
    """The settlement queue of the demo (see the module docstring); adds only what is missing."""
    rng = random.Random(year * 31)
    previous = _year(year - 1, today - timedelta(days=362))
    lapsed_year = _year(year - 3, today - timedelta(days=797))

    plans = []
    for n, (district, place, children, state) in enumerate(PLANS):
        plans.append((_application(rng, n, previous, district, place, summary), place, children, state))
    old = _application(rng, len(PLANS), lapsed_year, "朝阳区", "own_home", summary)
    for y in (previous.year, lapsed_year.year):
        rank_year(y, actor_label=ACTOR)
    qualified_on = {previous.year: previous.announcement_end, lapsed_year.year: lapsed_year.announcement_end}
    for application in [p[0] for p in plans] + [old]:
        db.session.refresh(application)
        if application.admitted and application.qualified_at is None:
            # 公示期满符合落户条件的,取得年度积分落户资格: at the announcement's close.
            application.qualified_at = datetime.combine(qualified_on[application.year], time(18),
                                                        tzinfo=timezone.utc)
    db.session.flush()

    approver = db.session.scalar(select(Staff).where(Staff.username == "approver"))
    for application, place, children, state in plans:
        if services.settlement_of(application) is not None or application.qualified_at is None:
            continue
        received = today - timedelta(days=rng.randint(1, 6))
        services.open_for_qualified(application, today=previous.announcement_end + timedelta(days=1),
                                    actor_label=ACTOR)
        summary.bump("settlement cases")
        if state == "awaiting_submission":
            continue
        s = _submit(rng, application, place, children, received)
        if state in ("sent_to_city", "approved"):
            reviewer = db.session.scalar(select(Staff).where(Staff.role == Role.supervisor,
                                                             Staff.district_id == application.district_id))
            services.claim(s, actor=reviewer, today=received, version=s.case.version)
            services.send_up(s, actor=reviewer, today=received, note="材料齐全，审核无误", version=s.case.version,
                             ticks={i.code: {"state": "acceptable"} for i in services.checklist(s)
                                    if i.code in uploaded_slots(s.case) or not i.upload})
            if state == "approved" and approver is not None:
                services.approve(s, actor=approver, today=received, version=s.case.version)

    # One lapsed case: submitted within its two years, never finished, closed by the sweep.
    if services.settlement_of(old) is None and old.qualified_at is not None:
        on = lapsed_year.announcement_end + timedelta(days=20)
        services.open_for_qualified(old, today=on, actor_label=ACTOR)
        _submit(rng, old, "own_home", (("小乐", "2011-09-09", 1),), on)
        services.close_lapsed(today)
        summary.bump("settlement cases")
    db.session.flush()


def count(stage: str | None = None) -> int:
    stmt = select(SettlementCase.id)
    if stage:
        stmt = stmt.where(SettlementCase.stage == stage)
    return len(db.session.scalars(stmt).all())
