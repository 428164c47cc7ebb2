"""Settlement (落户办理, 第五篇 二 and 三): opening the case, the applicant's submission, the
district's review, the city's approval with its letters, the criminal-record stop, lapse
and abandonment.

Plain functions: each checks the rules (staff/permissions.py), changes and flushes, writes
its audit event and, where the applicant is told, a feed event ("settlement.progress") in
the same transaction; none commits. Refusals are the cases module's errors
(`Refused`, `Invalid`, `StaleCase`) for staff, `IntakeRefused` (409 in words) for the API.

Flow (第五篇 二 3: "上述材料经区指定部门审核无误后报市人力资源社会保障局核准"):

    awaiting_submission ─submit→ received ─claim→ district_review ─send up→ sent_to_city ─approve→ approved
                                   ↑  └──────────── return for materials → returned ─resubmit┘
                                   └──────────── city returns with a reason → district_review
    any open stage ─(sweep, 2 years after the announcement's close)→ lapsed; ─(API)→ abandoned;
    sent_to_city ─(criminal record found at approval)→ stopped

No one moves up after a lapse, an abandonment or a stop ("落户资格不递补"): nothing here
touches the ranking or another application.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backoffice.applications.models import Application, EvidenceFile, Indicator, ScoreSnapshot
from backoffice.audit.services import record
from backoffice.cases import clock
from backoffice.cases import services as case_services
from backoffice.cases.intake import IntakeRefused, Upload, _attach, _new_case
from backoffice.cases.models import CaseKind, CaseStatus, ReviewCase
from backoffice.cases.services import Invalid, Refused, StaleCase, STALE_MESSAGE
from backoffice.core import pdf
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.feed.services import emit
from backoffice.notices.services import NoticeDecision, issue_notice
from backoffice.reference.models import Year
from backoffice.settlement.models import STAGES, SettlementCase, SettlementLetter, SettlementStep
from backoffice.staff.permissions import can_approve_settlement, can_open_settlement, can_review_settlement
from backoffice.turnaround.sql import beijing_today
from verifiers import settlement as rules
from verifiers.identifiers import resident_id_problem
from verifiers.routing import queue_for
from verifiers.uploads import UploadRejected, check_pdf, store
from backoffice.intake.models import ClaimDetails
from backoffice.intake.registry import local_registries
from backoffice.intake.registry import _lookup
from backoffice.turnaround.services import resume
from backoffice.i18n import _, is_english, pgettext

FEED_KIND = "settlement.progress"
CHECKLIST_STATES = case_services.CHECKLIST_STATES
NOTE_MAX = 2000


# Reading a case ------------------------------------------------------------------------
def settlement_of(application: Application) -> SettlementCase | None:
    return db.session.scalar(select(SettlementCase).where(SettlementCase.application_id == application.id))


def settlement_for_case(case: ReviewCase) -> SettlementCase | None:
    return db.session.scalar(select(SettlementCase).where(SettlementCase.case_id == case.id))


def _claim_details(claim_id: int):

    return db.session.get(ClaimDetails, claim_id)


def _points_home(application: Application) -> tuple[bool, str | None]:
    """(housing points came from the spouse's own home, certificate no. of the own home the
    points came from), from the application's counted own-housing claims, latest first."""
    spouse_home, certificate = False, None
    own = [c for c in application.claims
           if c.indicator == Indicator.housing and c.counts and (c.verified or c.claimed or {}).get("type") == "own"]
    own.sort(key=lambda c: ((c.verified or c.claimed or {}).get("to") or "", c.id), reverse=True)
    for claim in own:
        details = _claim_details(claim.id)
        filed = (details.filed if details is not None else None) or {}
        if filed.get("owner") == "spouse":
            spouse_home = True
        if certificate is None and filed.get("certificate_no"):
            certificate = filed["certificate_no"]
    return spouse_home, certificate


def _work_residence_points(application: Application) -> bool:
    """The applicant scored 职住区域 points: the latest snapshot's figure, or, before any
    snapshot, a counted work_residence claim that chose to score it."""
    snapshot = db.session.scalar(select(ScoreSnapshot).where(ScoreSnapshot.application_id == application.id)
                                 .order_by(ScoreSnapshot.id.desc()).limit(1))
    if snapshot is not None:
        points = ((snapshot.breakdown or {}).get("indicators") or {}).get("work_residence") or {}
        try:
            return float(points.get("points") or 0) > 0
        except (TypeError, ValueError):
            return False
    return any(c.indicator == Indicator.work_residence and c.counts and (c.verified or c.claimed or {}).get("chosen")
               for c in application.claims)


def children_of(s: SettlementCase) -> tuple[rules.Child, ...]:
    return tuple(rules.Child(c["name"], c["id_number"], date.fromisoformat(c["birth_date"]), int(c["birth_order"]),
                             c["parent"]) for c in (s.children or ()))


def facts(s: SettlementCase) -> rules.SettlementFacts:
    """What the checklist depends on, derived from the case: never from what a client asks for."""
    spouse_home, points_home = _points_home(s.application)
    return rules.SettlementFacts(
        place=s.place or "own_home",
        children=children_of(s),
        spouse_home_points=spouse_home,
        has_archive=s.has_archive,
        by_agent=bool(s.agent_name),
        family_owns_home=s.family_owns_home,
        work_residence_points=_work_residence_points(s.application),
        place_certificate_no=s.place_certificate_no,
        points_home_certificate_no=points_home,
        place_title_use=_title_use(s.place_certificate_no) if s.place == "own_home" else None,
    )


def _title_use(certificate_no: str | None) -> str | None:
    """规划用途 of the home's certificate in the real-estate register dataset, if it is there."""
    if not certificate_no:
        return None

    title = local_registries().real_estate.title(certificate_no)
    return title.use if title is not None else None


def checklist(s: SettlementCase) -> tuple[rules.Item, ...]:
    return rules.checklist(facts(s)) if s.place else ()


def checklist_for(application: Application, submission: "Submission") -> tuple[rules.Item, ...]:
    """The checklist a submission will have, before it is made: the slots the online system
    asks the applicant to upload (one PDF each) so that the case can be sent up."""
    children = tuple(rules.Child(c["name"], c["id_number"], date.fromisoformat(c["birth_date"]),
                                 int(c["birth_order"]), c["parent"])
                     for c in _clean_children(list(submission.children)))
    return rules.checklist(rules.SettlementFacts(
        place=submission.place, children=children, spouse_home_points=_points_home(application)[0],
        has_archive=bool(submission.has_archive), by_agent=bool((submission.agent_name or "").strip()),
        family_owns_home=bool(submission.family_owns_home)))


def checks(s: SettlementCase) -> tuple[rules.Check, ...]:
    return rules.checks(facts(s)) if s.place else ()


def criminal_records(application: Application) -> list[dict]:
    """政府数据比对函询: the registry dataset's criminal records of the applicant
    ("申请人无刑事犯罪记录证明统一由政府数据比对函询取得")."""

    return list(_lookup("criminal_records", id_number=application.applicant.id_number))


# Events and steps -----------------------------------------------------------------------
def _progress_text(stage: str, *, letter_number: str | None = None, reason: str | None = None) -> str:
    text = f"落户办理进度：{STAGES[stage]}"
    if letter_number:
        text += f"，函件编号{letter_number}"
    if reason:
        text += f"。原因：{reason}"
    return text


def _step(s: SettlementCase, stage: str, *, actor=None, actor_label: str | None = None, reason_code: str | None = None,
          reason_text: str | None = None, note: str | None = None, checklist: dict | None = None,
          tell_applicant: bool = True) -> SettlementStep:
    before = s.stage
    s.stage = stage
    step = SettlementStep(settlement_id=s.id, stage=stage, reason_code=reason_code, note=note, checklist=checklist,
                          actor_id=getattr(actor, "id", None), actor_label=actor_label)
    db.session.add(step)
    _flush()
    record(f"settlement.{stage}", "review_case", s.case_id, district_id=s.case.district_id, actor=actor,
           actor_label=actor_label, before={"stage": before},
           after={"stage": stage, "reason": reason_code, "note": note, "letter_number": s.letter_number})
    if tell_applicant:
        emit(s.application, FEED_KIND, _progress_text(stage, letter_number=s.letter_number, reason=reason_text),
             {"case": s.case.number, "stage": stage, "stage_zh": STAGES[stage], "letter_number": s.letter_number,
              "reason": reason_code, "reason_zh": reason_text})
    return step


def _flush() -> None:
    from sqlalchemy.orm.exc import StaleDataError

    try:
        db.session.flush()
    except StaleDataError:
        raise StaleCase(STALE_MESSAGE) from None


def _check_version(case: ReviewCase, version) -> None:
    """The version the form showed is mandatory (as for every case action, cases/services.py)."""
    if version is None or version == "":
        raise case_services.MissingVersion(f"{case.number}: {case_services.MISSING_VERSION_MESSAGE}")
    try:
        if int(version) == case.version:
            return
    except (TypeError, ValueError):
        pass
    raise StaleCase(STALE_MESSAGE)


def _close(case: ReviewCase) -> None:
    case.status = CaseStatus.closed
    case.closed_at = utcnow()
    case.paused_on = None


# Opening ----------------------------------------------------------------------------------
def kept_until_for(application: Application) -> date:
    year = db.session.get(Year, application.year)
    return rules.qualification_kept_until(year.announcement_end)


def _refuse_unqualified(application: Application, today: date) -> None:
    if application.qualified_at is None:
        raise IntakeRefused("settlement.not_qualified", "该申请人尚未取得积分落户资格，不能办理落户。",
                            "The applicant has not obtained the settlement qualification.")
    if application.revoked_at is not None:
        raise IntakeRefused("settlement.revoked", "该申请人的积分落户资格已被取消，不能办理落户。",
                            "The applicant's qualification was revoked.")
    if today > kept_until_for(application):
        raise IntakeRefused(
            "settlement.lapsed",
            f"落户资格保留2年（至{kept_until_for(application).isoformat()}），逾期未办理的视为自行放弃，不能再办理落户。",
            f"The qualification was kept until {kept_until_for(application).isoformat()}; it has lapsed.")


def open_for_qualified(application: Application, *, today: date | None = None,
                       actor_label: str | None = None) -> SettlementCase:
    """The settlement case of a qualified application (第五篇 一 2: "公示期满符合落户条件的,
    取得年度积分落户资格"); idempotent: an existing case is returned as it is. Called when
    the announcement closes and when the online system first submits the 调京信息.
    The case waits for the applicant's submission (its clock stopped) until it arrives."""
    found = settlement_of(application)
    if found is not None:
        return found
    today = today or beijing_today()
    _refuse_unqualified(application, today)
    case = _new_case(application, kind=CaseKind.settlement, queue=queue_for(None, "settlement"), received=today)
    case.status = CaseStatus.awaiting_materials
    case.paused_on = today
    s = SettlementCase(case_id=case.id, application_id=application.id, stage="awaiting_submission",
                       kept_until=kept_until_for(application))
    db.session.add(s)
    db.session.flush()
    record("case.received", "review_case", case.id, district_id=case.district_id, actor_label=actor_label,
           after={"number": case.number, "kind": "settlement", "queue": case.queue,
                  "kept_until": s.kept_until.isoformat()})
    s.case = case
    _step(s, "awaiting_submission", actor_label=actor_label)
    return s


# The applicant's submission (调京信息) ------------------------------------------------------
@dataclass(frozen=True)
class Submission:
    place: str
    place_address: str | None = None
    place_certificate_no: str | None = None
    family_owns_home: bool = False
    has_archive: bool = True
    agent_name: str | None = None
    agent_id_number: str | None = None
    children: tuple[dict, ...] = ()


def _field(field: str, zh: str, en: str) -> IntakeRefused:
    return IntakeRefused(f"settlement.{field.split('.')[0]}", zh, en, status=422, field=field)


def _clean_children(raw) -> list[dict]:
    if not isinstance(raw, (list, tuple)):
        raise _field("children", "随迁子女应为列表。", "children must be a list.")
    if len(raw) > rules.MAX_CHILDREN:
        raise _field("children", f"随迁子女最多{rules.MAX_CHILDREN}人。", f"At most {rules.MAX_CHILDREN} children.")
    out = []
    for i, c in enumerate(raw):
        where = f"children.{i}"
        if not isinstance(c, dict):
            raise _field(where, "随迁子女信息格式不正确。", "Each child is an object.")
        name = str(c.get("name") or "").strip()
        if not name or len(name) > 64:
            raise _field(f"{where}.name", "请填写随迁子女姓名。", "The child's name is required.")
        id_number = str(c.get("id_number") or "").strip().upper()
        problem = resident_id_problem(id_number)
        if problem:
            raise _field(f"{where}.id_number", f"随迁子女身份证号不正确：{problem}", "The child's ID number is not valid.")
        try:
            born = date.fromisoformat(str(c.get("birth_date") or ""))
        except ValueError:
            raise _field(f"{where}.birth_date", "出生日期格式应为2016-01-01。", "birth_date must be YYYY-MM-DD.") from None
        order = c.get("birth_order")
        if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= 10:
            raise _field(f"{where}.birth_order", "请填写随迁子女为第几孩（1至10）。", "birth_order is 1 to 10.")
        parent = c.get("parent")
        if parent not in rules.PARENTS:
            raise _field(f"{where}.parent", "请填写申请人是随迁子女的父亲（father）或母亲（mother）。",
                         "parent is father or mother (the applicant's relation to the child).")
        out.append({"name": name, "id_number": id_number, "birth_date": born.isoformat(), "birth_order": order,
                    "parent": parent})
    return out


def submit(application: Application, submission: Submission, files: Mapping[str, Upload | bytes], *,
           today: date | None = None, upload_dir: str | None = None, actor_label: str | None = None) -> SettlementCase:
    """The online system submits (or, after a return, resubmits) the 调京信息: the children,
    the chosen place of settlement and one PDF per material slot. Only for a qualified,
    unrevoked application within its two years; refused in words otherwise."""
    today = today or beijing_today()
    _refuse_unqualified(application, today)
    s = settlement_of(application)
    if s is not None and s.is_final:
        raise IntakeRefused(f"settlement.{s.stage}", f"该落户案件已办结（{s.stage_label}），不能再提交。",
                            f"This settlement is finished ({s.stage}).")
    if s is not None and s.stage not in ("awaiting_submission", "returned"):
        raise IntakeRefused("settlement.in_review", f"落户材料正在审核（{s.stage_label}），请等待审核结果。",
                            "The materials are being reviewed; wait for the result.")
    if submission.place not in rules.PLACES:
        raise _field("place", "请选择落户地：" + "、".join(f"{k}（{v[0]}）" for k, v in rules.PLACES.items()),
                     "place is one of " + ", ".join(rules.PLACES))
    if submission.place == "collective" and submission.family_owns_home:
        raise _field("place", "申请人及其配偶、父母、子女在本市有合法产权住房的，不能在单位集体户内落户。"
                     "（" + rules.Q_COLLECTIVE + "）",
                     "The collective household is only for families without a legal home in Beijing.")
    if submission.place != "collective" and not (submission.place_certificate_no or "").strip():
        raise _field("place_certificate_no", "请填写落户住房的证书、租赁合同或分配通知单编号。",
                     "The number of the title, lease or allocation notice is required.")
    agent_name = (submission.agent_name or "").strip() or None
    agent_id = (submission.agent_id_number or "").strip().upper() or None
    if agent_name and (not agent_id or resident_id_problem(agent_id)):
        raise _field("agent_id_number", "委托他人办理的，请填写被委托人的身份证号。", "The agent's ID number is required.")
    children = _clean_children(list(submission.children))

    if s is None:
        s = open_for_qualified(application, today=today, actor_label=actor_label)
    before = {"place": s.place, "children": s.children}
    s.place = submission.place
    s.place_address = (submission.place_address or "").strip()[:200] or None
    s.place_certificate_no = (submission.place_certificate_no or "").strip()[:64] or None
    s.family_owns_home = bool(submission.family_owns_home)
    s.has_archive = bool(submission.has_archive)
    s.agent_name, s.agent_id_number = agent_name, agent_id if agent_name else None
    s.children = children
    db.session.flush()

    # Every file checked against its slot and 附件3 before any is stored.
    slots = {i.code: i for i in checklist(s)}
    checked = {}
    for slot, upload in files.items():
        if slot not in slots:
            raise _field(f"files.{slot}", f"本案没有材料项{slot}；可上传：" + "、".join(slots),
                         f"{slot!r} is not a material of this case; expected one of: " + ", ".join(slots))
        if not isinstance(upload, Upload):
            upload = Upload(bytes(upload))
        try:
            info = check_pdf(upload.data)
        except UploadRejected as exc:
            raise IntakeRefused(f"upload.{exc.rule}", exc.message_zh, exc.message_en, status=422,
                                field=f"files.{slot}") from None
        checked[slot] = (upload, info)
    case = s.case
    _attach(case, checked, upload_dir, actor_label)

    resubmitted = s.stage == "returned"
    if resubmitted:

        resume(case, today, actor_label=actor_label)
    else:
        # The clock starts when the materials arrive: received today, due in the queue's working days.
        case.received_on, case.due_date = today, clock.due_date_for(case.queue, today)
        case.status, case.paused_on = CaseStatus.open, None
    s.submitted_at = utcnow()
    db.session.flush()
    record("settlement.submitted", "review_case", case.id, district_id=case.district_id, actor_label=actor_label,
           before=before, after={"place": s.place, "children": len(children), "files": sorted(checked),
                                 "resubmitted": resubmitted})
    _step(s, "district_review" if resubmitted and case.assignee_id else "received", actor_label=actor_label)
    return s


def abandon(application: Application, *, today: date | None = None, actor_label: str | None = None) -> SettlementCase:
    """The applicant gives up the qualification (自行放弃). No one moves up ("落户资格不递补")."""
    today = today or beijing_today()
    if application.qualified_at is None:
        raise IntakeRefused("settlement.not_qualified", "该申请人尚未取得积分落户资格。",
                            "The applicant has not obtained the settlement qualification.")
    s = settlement_of(application)
    if s is None:
        s = open_for_qualified(application, today=today, actor_label=actor_label)
    if s.is_final:
        raise IntakeRefused(f"settlement.{s.stage}", f"该落户案件已办结（{s.stage_label}），不能放弃。",
                            f"This settlement is finished ({s.stage}).")
    _close(s.case)
    _step(s, "abandoned", actor_label=actor_label, reason_text="申请人取得落户资格后自行放弃，落户资格不递补")
    return s


# The district's review -----------------------------------------------------------------
def _refuse_lapsed(s: SettlementCase, today: date | None = None) -> None:
    today = today or beijing_today()
    if s.stage == "lapsed" or today > s.kept_until:
        raise Refused(_("落户资格保留2年（至%(s_kept_until_isoformat)s），逾期未办理的视为自行放弃；该案件不能再办理",
                        s_kept_until_isoformat=s.kept_until.isoformat()))
    if s.is_final:
        raise Refused(_("该案件已办结（%(stage_label)s）", stage_label=s.stage_label))


def _refuse_unless(verdict) -> None:
    if not verdict:
        raise Refused(verdict.message)


def claim(s: SettlementCase, *, actor, version=None, today: date | None = None) -> SettlementCase:
    """A district reviewer takes the received case (the cases module's claim, under the lapse rule)."""
    _refuse_lapsed(s, today)
    if s.stage == "awaiting_submission":
        raise Refused(_("申请人尚未提交调京信息和材料"))
    case_services.claim(s.case, actor=actor, version=version)
    if s.stage == "received":
        _step(s, "district_review", actor=actor)
    return s


def under_district_review(s: SettlementCase) -> bool:
    """Claimed by a district reviewer (from the workspace, or the worklist's claim action)."""
    return s.stage in ("received", "district_review") and s.case.status == CaseStatus.in_review


def _note_too_long() -> str:
    return _("说明不能超过%(NOTE_MAX)s字", NOTE_MAX=NOTE_MAX)


def _clean_ticks(s: SettlementCase, ticks: Mapping | None) -> tuple[dict, dict]:
    codes = {i.code for i in checklist(s)}
    clean, errors = {}, {}
    for code, entry in (ticks or {}).items():
        if code not in codes:
            errors[f"checklist.{code}"] = _("不属于本案的材料")
            continue
        state = (entry or {}).get("state") or ""
        note = ((entry or {}).get("note") or "").strip()
        if state and state not in CHECKLIST_STATES:
            errors[f"checklist.{code}"] = _("无效的状态")
        elif len(note) > NOTE_MAX:
            errors[f"checklist.{code}"] = _("说明过长")
        elif state or note:
            clean[code] = {"state": state or None, "note": note or None}
    # Issue 17 §6, as for review cases: nothing is 已提供 or 合格 without its file.
    uploads = {i.code for i in checklist(s) if i.upload}
    errors.update(case_services.ticks_without_files(s.case, {c: e for c, e in clean.items() if c in uploads}))
    return clean, errors


def missing_uploads(s: SettlementCase, english: bool = False) -> list[str]:
    """Labels of the checklist's required materials (one proof of each family-planning group)
    that have no uploaded file: the case cannot be sent up until they have one."""
    if not s.place:
        return []
    no_upload = {i.code for i in checklist(s) if not i.upload}
    return list(rules.missing(facts(s), case_services.uploaded_slots(s.case) | no_upload, english))


def send_up(s: SettlementCase, *, actor, ticks: Mapping | None, note: str = "", version=None,
            today: date | None = None) -> SettlementCase:
    """"经区指定部门审核无误后报市人力资源社会保障局核准": every document of the checklist
    ticked acceptable (one proof of each family-planning group) and every check passed."""
    _check_version(s.case, version)
    _refuse_lapsed(s, today)
    _refuse_unless(can_review_settlement(actor, s.case))
    if not under_district_review(s):
        raise Refused(_("该案件当前为“%(stage_label)s”，不能报送", stage_label=s.stage_label))
    clean, errors = _clean_ticks(s, ticks)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = _note_too_long()
    not_uploaded = missing_uploads(s, is_english())
    if not_uploaded:
        # Named whatever else is wrong: the reviewer sees which documents the applicant owes.
        errors["checklist"] = case_services.not_uploaded_error(not_uploaded, "send")
    elif not errors:
        missing = rules.missing(facts(s), [c for c, e in clean.items() if e.get("state") == "acceptable"])
        if missing:
            errors["checklist"] = ("材料不齐全，不能报送；未标为“合格”的：" + "、".join(missing)
                                   + " / tick each required document as acceptable")
        failed = [c for c in checks(s) if not c.passed]
        if failed:
            errors["checks"] = "；".join(f"{c.label_zh}：{c.message_zh}" for c in failed)
    if errors:
        raise Invalid(_("请修改标出的内容后再提交"), errors)
    s.sent_up_by_id, s.sent_up_at = actor.id, utcnow()
    _step(s, "sent_to_city", actor=actor, note=note or None, checklist=clean)
    return s


def return_to_applicant(s: SettlementCase, *, actor, reason_code: str, note: str, ticks: Mapping | None = None,
                        version=None, today: date | None = None) -> SettlementCase:
    """The district returns the case to the applicant for materials, with a reason; the clock stops."""
    _check_version(s.case, version)
    _refuse_lapsed(s, today)
    _refuse_unless(can_review_settlement(actor, s.case))
    if not under_district_review(s):
        raise Refused(_("该案件当前为“%(stage_label)s”，不能退回", stage_label=s.stage_label))
    errors = {}
    if reason_code not in {r.code for r in rules.return_reasons("district")}:
        errors["reason_code"] = _("请选择退回理由")
    note = (note or "").strip()
    if not note:
        errors["note"] = _("请填写说明")
    elif len(note) > NOTE_MAX:  # refused whole, never cut (the page has no maxlength)
        errors["note"] = _note_too_long()
    clean, tick_errors = _clean_ticks(s, ticks)
    errors.update(tick_errors)
    if errors:
        raise Invalid(_("请修改标出的内容后再提交"), errors)
    s.case.status = CaseStatus.awaiting_materials
    s.case.paused_on = today or beijing_today()
    reason_text = rules.return_reason(reason_code).label_zh
    _step(s, "returned", actor=actor, reason_code=reason_code, reason_text=reason_text,
          note=note, checklist=clean or None)
    # 落户材料退回补正告知书 with its delivery, in this transaction: what is missing and what was
    # marked as a problem, by the case's checklist (第五篇 二 3).
    missing, problems = _return_materials(s, clean)
    issue_notice(s.case, NoticeDecision(outcome="returned", reason_code=reason_code, reason_text=reason_text,
                                        note=note, missing=missing, problems=problems,
                                        # "落户资格保留2年，逾期未办理的视为自行放弃" (第五篇 一)
                                        wait_until=s.kept_until, wait_phase="落户资格保留期"),
                 "settlement_return", actor=actor)
    return s


def _return_materials(s: SettlementCase, clean: Mapping) -> tuple[list[str], list[dict]]:
    """(labels of what is not ticked acceptable, the rows ticked as a problem with their note)."""
    acceptable = [code for code, entry in clean.items() if entry.get("state") == "acceptable"]
    missing = list(rules.missing(facts(s), acceptable))
    labels = {i.code: (f"随迁子女{i.child}：" if i.child else "") + i.label_zh for i in checklist(s)}
    problems = [{"label": labels[code], "note": entry.get("note") or ""} for code, entry in clean.items()
                if entry.get("state") == "problem" and code in labels]
    return missing, problems


# The city's approval --------------------------------------------------------------------
def _next_letter_seq(year: int) -> int:
    current = db.session.scalar(select(func.max(SettlementCase.letter_seq)).where(SettlementCase.letter_year == year))
    return (current or 0) + 1


def letter_numbers(year: int, seq: int) -> dict[str, str]:
    return {
        "approval_letter": f"京人社落函〔{year}〕{seq:06d}号",
        "transfer_introduction": f"京人社调介〔{year}〕{seq:06d}号",
        "personnel_registration": f"京人社调登〔{year}〕{seq:06d}号",
    }


def _letters(s: SettlementCase, numbers: dict[str, str], day: date) -> dict[str, pdf.Document]:
    application = s.application
    applicant = application.applicant
    place = rules.PLACES[s.place][0] if s.place else ""
    where = "，".join(x for x in (place, s.place_address or "") if x)
    children = children_of(s)
    family = [["姓名", "关系", "公民身份号码", "出生日期"]] + [
        [c.name, "子女", c.id_number, c.birth_date.isoformat()] for c in children]
    signed = ["北京市人力资源和社会保障局", f"{day.year}年{day.month}月{day.day}日"]
    person = [["姓名", "公民身份号码", "出生日期", "工作单位", "业务办理区"],
              [applicant.name, applicant.id_number, applicant.birth_date.isoformat(), application.employer.name,
               application.district.name]]
    return {
        "approval_letter": pdf.Document(
            title="北京市人力资源和社会保障局积分落户核准函", number=numbers["approval_letter"],
            paragraphs=[
                f"{application.district.name}积分落户服务窗口：",
                f"经{application.district.name}指定部门审核并报我局核准，{applicant.name}（公民身份号码{applicant.id_number}）"
                f"已取得{application.year}年度积分落户资格，同意其办理调京落户手续，落户地：{where}。"
                + (f"随迁子女{len(children)}人：" + "、".join(c.name for c in children) + "。" if children else ""),
                "申请人可凭本函按有关规定办理调档及落户手续。落户后应依法注销《北京市居住证》。",
            ],
            tables=[family] if children else [], closing=signed),
        "transfer_introduction": pdf.Document(
            title="北京市人力资源和社会保障局调动介绍信", number=numbers["transfer_introduction"],
            paragraphs=[
                "档案管理单位：",
                f"兹介绍{applicant.name}同志（公民身份号码{applicant.id_number}）调入北京市{application.employer.name}工作，"
                f"请按本市档案管理规定办理档案转接。核准函编号：{numbers['approval_letter']}。",
                "本介绍信有效期内办理档案转接；档案已在京内有人事档案管理权限的机关事业单位、国有企业或流动人员人事档案管理服务机构管理的，不需要退回原籍。",
            ], closing=signed),
        "personnel_registration": pdf.Document(
            title="调动人员情况登记表", number=numbers["personnel_registration"],
            paragraphs=[f"核准函编号：{numbers['approval_letter']}（存入调京人员档案）"],
            tables=[person, [["落户地", "落户地址", "证书编号"],
                             [place, s.place_address or "", s.place_certificate_no or ""]]]
            + ([family] if children else []),
            closing=signed),
    }


def _upload_dir() -> str:
    return current_app.config["BACKOFFICE"].upload_dir


def approve(s: SettlementCase, *, actor, version=None, today: date | None = None) -> SettlementCase:
    """The city approves (核准). Before approval the criminal-record comparison runs against
    the registry dataset (第五篇 二 4, 政府数据比对函询); a hit stops the case instead.
    On approval the three letters are rendered, numbered and stored with the case."""
    _check_version(s.case, version)
    _refuse_lapsed(s, today)
    _refuse_unless(can_approve_settlement(actor, s))
    if s.stage != "sent_to_city":
        raise Refused(_("该案件当前为“%(stage_label)s”，不能核准", stage_label=s.stage_label))
    found = criminal_records(s.application)
    if found:
        return stop_for_criminal_record(s, found[0], actor=actor)
    day = today or beijing_today()
    year = day.year
    seq = _next_letter_seq(year)
    numbers = letter_numbers(year, seq)
    s.letter_year, s.letter_seq, s.letter_number = year, seq, numbers["approval_letter"]
    s.approved_by_id, s.approved_at = actor.id, utcnow()
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # Two approvals took the same serial at once: the unique (year, serial) refused one.
        raise StaleCase(_("另一件核准同时取得了该函件编号，请重新核准")) from None
    for kind, document in _letters(s, numbers, day).items():
        info = store(pdf.render(document), _upload_dir())
        db.session.add(SettlementLetter(settlement_id=s.id, kind=kind, number=numbers[kind], sha256=info.sha256,
                                        size=info.size))
    _close(s.case)
    _flush()
    _step(s, "approved", actor=actor)
    return s


def return_to_district(s: SettlementCase, *, actor, reason_code: str, note: str, version=None,
                       today: date | None = None) -> SettlementCase:
    """The city returns the case to the district's reviewer with a reason."""
    _check_version(s.case, version)
    _refuse_lapsed(s, today)
    _refuse_unless(can_approve_settlement(actor, s))
    if s.stage != "sent_to_city":
        raise Refused(pgettext("the case has not been sent to the city", "该案件当前为“%(stage_label)s”，不能退回", stage_label=s.stage_label))
    errors = {}
    if reason_code not in {r.code for r in rules.return_reasons("city")}:
        errors["reason_code"] = _("请选择退回理由")
    note = (note or "").strip()
    if not note:
        errors["note"] = _("请填写说明")
    elif len(note) > NOTE_MAX:  # refused whole, never cut (the page has no maxlength)
        errors["note"] = _note_too_long()
    if errors:
        raise Invalid(_("请修改标出的内容后再提交"), errors)
    # sent_up_by_id stays: whoever reviewed it still may not approve it.
    _step(s, "district_review", actor=actor, reason_code=reason_code,
          reason_text="市人力资源社会保障局退回区审核：" + rules.return_reason(reason_code).label_zh, note=note)
    return s


def stop_for_criminal_record(s: SettlementCase, found: dict, *, actor=None, actor_label: str | None = None
                             ) -> SettlementCase:
    """A criminal record found by the comparison: the case stops and the application is marked
    for revocation on the ground 刑事犯罪 (第一篇 四 "无刑事犯罪记录", for the whole procedure).
    The lead points this at the announcement module's revocation service at merge."""
    source = rules.RECORD_SOURCES.get(found.get("source"), found.get("source") or "")
    ground = f"刑事犯罪（{source}，文书编号{found.get('document_no')}，{found.get('decided_on')}）"
    s.stop_ground = ground[:500]
    application = s.application
    before = {"revoked_at": application.revoked_at, "revoked_reason": application.revoked_reason}
    application.revoked_at = utcnow()
    application.revoked_reason = s.stop_ground
    _close(s.case)
    _flush()
    record("qualification.revoked", "application", application.id, district_id=application.district_id, actor=actor,
           actor_label=actor_label, before=before,
           after={"revoked_reason": application.revoked_reason, "ground": "刑事犯罪", "document_no": found.get("document_no")})
    _step(s, "stopped", actor=actor, actor_label=actor_label, reason_code="criminal_record",
          reason_text="经政府数据比对函询发现刑事犯罪记录，取消积分落户资格，落户资格不递补")
    return s


# Lapse ------------------------------------------------------------------------------------
def close_lapsed(day: date | None = None) -> int:
    """The daily sweep: close every open settlement whose two years have passed, as
    逾期视为放弃 ("落户资格保留2年,逾期未办理的视为自行放弃"). Returns how many."""
    day = day or beijing_today()
    lapsing = db.session.scalars(
        select(SettlementCase).where(SettlementCase.kept_until < day,
                                     SettlementCase.stage.not_in(("approved", "stopped", "lapsed", "abandoned")))
        .order_by(SettlementCase.id)
    ).all()
    for s in lapsing:
        _close(s.case)
        _step(s, "lapsed", actor_label="sweep",
              reason_text=f"落户资格保留2年（至{s.kept_until.isoformat()}），逾期未办理的视为自行放弃")
    return len(lapsing)


# Progress (查看调京进度) ----------------------------------------------------------------------
def progress(s: SettlementCase) -> dict:
    steps = []
    for step in s.steps:
        reason = None
        if step.reason_code == "criminal_record":
            reason = "经政府数据比对函询发现刑事犯罪记录"
        elif step.reason_code:
            try:
                reason = rules.return_reason(step.reason_code).label_zh
            except KeyError:
                reason = step.reason_code
        steps.append({"stage": step.stage, "stage_zh": STAGES[step.stage], "at": step.at.isoformat(),
                      "reason": step.reason_code, "reason_zh": reason})
    return {
        "number": s.case.number, "application_id": s.application_id, "stage": s.stage, "stage_zh": s.stage_label,
        "kept_until": s.kept_until.isoformat(), "letter_number": s.letter_number,
        "place": s.place, "children": len(s.children or ()), "steps": steps,
    }


def evidence_files(s: SettlementCase) -> list[EvidenceFile]:
    return list(db.session.scalars(select(EvidenceFile).where(EvidenceFile.case_id == s.case_id)
                                   .order_by(EvidenceFile.id)))


def can_open(user, s: SettlementCase):
    return can_open_settlement(user, s.case)
