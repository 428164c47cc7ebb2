"""Eligibility (第一篇) and employers (第二篇) through the intake API, and the 资格异议 case at the
district window over HTTP: refused at intake with the condition's prompt, objected to, decided
in the applicant's favour with a countersign, and the application goes on."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from backoffice.applications.models import Application
from backoffice.cases.models import CaseStatus, ReviewCase
from backoffice.eligibility.models import EligibilityResult, EmployerFiling
from backoffice.core.pdf import extract_text
from backoffice.extensions import db
from backoffice.intake.registry import load_dataset
from backoffice.notices.models import Notice
from backoffice.reference.models import Employer
from support import csrf_token_from
from verifiers.identifiers import resident_id_check_char

from intake_support import EMPLOYER_USCC, application_body

SHANGHAI = "91310115MA00000035"  # tax-registered, but registered in Shanghai (310115)
DEREGISTERED = "91110105MA0000004B"  # Beijing, tax registration 注销
HAIDIAN = "91110108MA0000002G"  # Beijing, tax-registered, not yet registered with us


def _id(body17: str) -> str:
    return body17 + resident_id_check_char(body17)


def _months(first: str, n: int) -> str:
    y, m = int(first[:4]), int(first[5:])
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return ";".join(out)


@pytest.fixture
def person(tmp_path, district):
    """person(born, sex, permit_on=..., back_paid=..., gap=...) → an ID number whose registry rows
    are loaded: a residence permit, pension and medical insurance 2012-01…2020-12 paid by the
    fixture employer."""
    counter = iter(range(10, 99))

    def build(born: str, sex: str = "M", *, permit_on: str | None = "2015-06-01", back_paid: str = "",
              gap: str | None = None, crime: bool = False):
        seq = next(counter)
        id_number = _id(f"110105{born.replace('-', '')}{seq:02d}{1 if sex == 'M' else 2}")
        folder = tmp_path / id_number
        folder.mkdir()
        rows = []
        for kind in ("pension", "medical"):
            ranges = [("2012-01", "2020-12")] if gap is None else [("2012-01", _before(gap)), (_after(gap), "2020-12")]
            for i, (start, end) in enumerate(ranges):
                paid = back_paid if kind == "pension" and i == len(ranges) - 1 else ""
                rows.append(f"{id_number},{kind},{start},{end},{paid},朝阳区,{EMPLOYER_USCC},")
        (folder / "social_insurance.csv").write_text(
            "id_number,insurance_type,from,to,back_paid,district,employer_uscc,status\n" + "\n".join(rows) + "\n",
            encoding="utf-8")
        if permit_on:
            (folder / "residence_permits.csv").write_text(
                f"permit_no,id_number,applied_on,status\n京居{id_number[-6:]},{id_number},{permit_on},有效\n",
                encoding="utf-8")
        if crime:
            (folder / "criminal_records.csv").write_text(
                "id_number,source,document_no,decided_on,summary\n"
                f"{id_number},police_certificate,京公证〔2020〕{seq}号,2020-05-01,诈骗\n", encoding="utf-8")
        load_dataset(folder, actor_label="test")
        return id_number

    return build


def _before(month: str) -> str:
    y, m = int(month[:4]), int(month[5:])
    return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"


def _after(month: str) -> str:
    y, m = int(month[:4]), int(month[5:])
    return f"{y + 1:04d}-01" if m == 12 else f"{y:04d}-{m + 1:02d}"


def _apply(api, id_number, name="测试人", post=None):
    body = application_body(id_number=id_number, name=name)
    if post:
        body["applicant"]["post"] = post
    return api.post("/applications", json=body)


def _refused_with(response, words: str) -> str:
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "eligibility.refused"
    assert words in error["message_zh"]
    assert error["message_zh"].endswith("对提示原因有异议的，可向所在区积分落户服务窗口提出。")
    return error["message_zh"]


def _applications() -> int:
    return db.session.scalar(select(func.count()).select_from(Application))


# 第一篇 at intake ---------------------------------------------------------------------------
def test_the_man_born_in_1950_is_refused_with_the_conditions_prompt(api, year_in, person):
    year_in("application")
    message = _refused_with(_apply(api, person("1950-05-01")), "不符合资格条件“不超过法定退休年龄”")
    assert "截至2020-12-31已满70周岁，男应为60周岁(不含)以下" in message
    assert _applications() == 0


@pytest.mark.parametrize("sex, post, limit", [("M", None, 60), ("F", "worker", 50), ("F", "cadre", 55)])
def test_the_retirement_age_the_day_before_and_after(api, year_in, person, sex, post, limit):
    year_in("application")
    reaches = person(f"{2020 - limit}-12-31", sex)
    one_day_younger = person(f"{2021 - limit}-01-01", sex)
    _refused_with(_apply(api, reaches, post=post), f"已满{limit}周岁")
    created = _apply(api, one_day_younger, post=post)
    assert created.status_code == 201, created.get_json()
    result = api.get(f"/applications/{created.get_json()['id']}/eligibility").get_json()
    assert result["eligible"] is True
    age = next(c for c in result["conditions"] if c["code"] == "retirement_age")
    assert age["facts"]["age"] == limit - 1 and age["facts"]["limit"] == limit
    assert age["words"].startswith("截至积分落户申报工作启动的上一年度12月31日")


def test_five_back_paid_months_pass_and_six_are_refused(api, year_in, person):
    year_in("application")
    assert _apply(api, person("1985-01-01", back_paid=_months("2016-01", 5))).status_code == 201
    _refused_with(_apply(api, person("1985-01-01", back_paid=_months("2016-01", 6))), "补缴记录累计6个月，超过5个月")


def test_a_one_month_gap_is_refused(api, year_in, person):
    year_in("application")
    _refused_with(_apply(api, person("1985-01-01", gap="2019-03")), "养老保险2019-03断缴")


def test_a_permit_applied_for_on_31_december_counts_but_not_on_1_january(api, year_in, person):
    year_in("application")
    assert _apply(api, person("1985-01-01", permit_on="2020-12-31")).status_code == 201
    _refused_with(_apply(api, person("1985-01-01", permit_on="2021-01-01")),
                  "居住证申领日期为2021-01-01，晚于2020-12-31")


def test_a_criminal_record_is_refused(api, year_in, person):
    year_in("application")
    _refused_with(_apply(api, person("1985-01-01", crime=True)), "查询到刑事犯罪记录（户籍地公安机关出具的证明")


# 第二篇 employers -----------------------------------------------------------------------------
def test_only_beijing_tax_registered_units_register(api, year_in, district, make):
    year_in("application")
    make.district("海淀区")
    db.session.commit()
    for uscc, words in ((SHANGHAI, "登记管理机关行政区划码为310115"), (DEREGISTERED, "税务登记状态为“注销”")):
        response = api.post("/employers", json={"uscc": uscc, "name": "某单位", "district": "朝阳区"})
        assert response.status_code == 409
        error = response.get_json()["error"]
        assert error["message_zh"].startswith("登录积分落户在线申报系统的用人单位需在北京市行政区域内登记注册并进行税务登记，"
                                              "实际办公地应在北京市内")
        assert words in error["message_zh"]
    assert db.session.scalar(select(Employer).where(Employer.uscc.in_((SHANGHAI, DEREGISTERED)))) is None
    # An application naming such a unit is refused too, and the unit is not created on the fly.
    refused = api.post("/applications", json=application_body(uscc=SHANGHAI))
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "employer.not_eligible"
    made = api.post("/employers", json={"uscc": HAIDIAN, "name": "北京海淀测试有限公司", "district": "海淀区",
                                        "contact_name": "周联系", "contact_phone": "010-12345678"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["district"]["name"] == "海淀区"
    assert made.get_json()["contact"] == {"contact_name": "周联系", "contact_phone": "010-12345678"}


def test_contact_changes_and_filed_changes_are_kept_as_history(api, year_in, district):
    year_in("application")
    changed = api.put(f"/employers/{EMPLOYER_USCC}/contact", json={"contact_phone": "13900000000"})
    assert changed.status_code == 200 and changed.get_json()["contact"] == {"contact_phone": "13900000000"}
    filed = api.post(f"/employers/{EMPLOYER_USCC}/filings",
                     json={"changes": {"name": "北京测试科技股份有限公司"}, "note": "更名"})
    assert filed.status_code == 201
    body = filed.get_json()
    assert body["name"] == "北京测试科技有限公司"  # other details do not change this year; they are filed
    assert [f["kind"] for f in body["filings"]] == ["contact", "filed"]
    assert body["filings"][1]["after"] == {"name": "北京测试科技股份有限公司"}
    assert body["filings"][1]["before"]["name"] == "北京测试科技有限公司"
    assert db.session.scalar(select(func.count()).select_from(EmployerFiling)) == 2


def test_the_employer_confirms_or_refuses_the_link_and_only_a_confirmed_one_submits(api, year_in, person):
    year_in("application")
    first = _apply(api, person("1985-01-01")).get_json()["id"]
    second = _apply(api, person("1986-01-01")).get_json()["id"]
    assert api.get(f"/applications/{first}/employer-link").get_json()["status_zh"] == "等待单位确认"
    assert api.patch(f"/applications/{first}", json={"submitted": True}).get_json()["error"]["code"] == "link.pending"
    no_opinion = api.put(f"/applications/{second}/employer-link", json={"decision": "不通过"})
    assert no_opinion.status_code == 422 and no_opinion.get_json()["error"]["fields"][0]["path"] == "opinion"
    refused = api.put(f"/applications/{second}/employer-link", json={"decision": "不通过", "opinion": "非本单位员工"})
    assert refused.get_json()["status"] == "refused" and refused.get_json()["opinion"] == "非本单位员工"
    blocked = api.patch(f"/applications/{second}", json={"submitted": True})
    assert blocked.status_code == 409 and "非本单位员工" in blocked.get_json()["error"]["message_zh"]
    assert api.put(f"/applications/{first}/employer-link", json={"decision": "通过"}).get_json()["status_zh"] == "通过"
    assert api.patch(f"/applications/{first}", json={"submitted": True}).get_json()["submitted_at"]
    again = api.put(f"/applications/{first}/employer-link", json={"decision": "不通过", "opinion": "改主意"})
    assert again.status_code == 409 and "本年度将无法更改" in again.get_json()["error"]["message_zh"]


# 资格异议 at the window -----------------------------------------------------------------------
def _page(client, case_id):
    return client.get(f"/admin/case/{case_id}/").get_data(as_text=True)


def _post(client, case_id, action, **data):
    page = _page(client, case_id)
    form = {"csrf_token": csrf_token_from(page), "version": re.search(r'name="version" value="(\d+)"', page).group(1)}
    form.update(data)
    return client.post(f"/admin/case/{case_id}/{action}", data=form)


def test_an_objection_overturns_a_refusal_with_a_countersign(api, year_in, person, make, client_for):
    year_in("application")
    late = person("1985-01-01", permit_on="2021-01-01")
    applicant = application_body(id_number=late, name="异议人")
    applicant["applicant"]["phone"] = "13912345678"
    body = {"application": applicant, "condition": "residence_permit",
            "statement": "2020年12月已提交居住证申请，系统记录有误"}
    eligible_condition = api.post("/eligibility/objections", json={**body, "condition": "social_insurance"})
    assert eligible_condition.status_code == 409
    assert eligible_condition.get_json()["error"]["code"] == "objection.not_refused"
    filed = api.post("/eligibility/objections", json=body)
    assert filed.status_code == 201, filed.get_json()
    case_out = filed.get_json()
    assert case_out["kind"] == "eligibility_objection" and case_out["queue"] == "eligibility"
    app_id = case_out["application_id"]
    # The refused application is kept for the objection but takes no claims until it is decided.
    blocked = api.post(f"/applications/{app_id}/claims", json={"indicator": "age"})
    assert blocked.status_code == 409 and "不符合资格条件“持有本市居住证”" in blocked.get_json()["error"]["message_zh"]

    case = db.session.scalar(select(ReviewCase).where(ReviewCase.number == case_out["number"]))
    reviewer, supervisor = make.staff("reviewer", "朝阳区"), make.staff("supervisor", "朝阳区")
    db.session.commit()
    window = client_for(reviewer)
    worklist = window.get("/admin/queue_eligibility/").get_data(as_text=True)
    assert case.number in worklist and "资格异议" in worklist
    page = _page(window, case.id)
    assert 'data-testid="eligibility-objection"' in page
    assert "应为北京市公安局核发的《北京市居住证》" in page and "居住证申领日期为2021-01-01" in page
    assert "《北京市居住证》" in page and "居住证申领回执" in page  # the materials to look for
    assert _post(window, case.id, "claim").status_code == 302
    response = _post(window, case.id, "decide", outcome="corrected", reason_code="elig_registry_incomplete",
                     note="申领回执显示2020-12-20已申领", **{"facts-number": "京居回执001", "facts-applied_on": "2020-12-20"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    db.session.expire_all()
    assert case.status == CaseStatus.awaiting_countersign
    assert api.post(f"/applications/{app_id}/claims", json={"indicator": "age"}).status_code == 409  # not yet

    boss = client_for(supervisor)
    page = _page(boss, case.id)
    assert 'data-testid="countersign-panel"' in page and "2020-12-20" in page
    assert _post(boss, case.id, "countersign", decision="confirm").status_code == 302
    db.session.expire_all()
    assert case.status == CaseStatus.closed
    result = api.get(f"/applications/{app_id}/eligibility").get_json()
    assert result["eligible"] is True
    permit = next(c for c in result["conditions"] if c["code"] == "residence_permit")
    assert {"number": "京居回执001", "applied_on": "2020-12-20", "status": "有效"} in permit["facts"]["permits"]
    assert api.post(f"/applications/{app_id}/claims", json={"indicator": "age"}).status_code == 201
    rows = db.session.scalars(select(EligibilityResult).where(EligibilityResult.application_id == app_id)
                              .order_by(EligibilityResult.id)).all()
    assert [r.eligible for r in rows] == [False, True] and rows[1].case_id == case.id

    # The applicant is told by a notice (资格异议处理结果告知书), printed from the workspace and queued
    # for the online system and SMS in the countersignature's transaction.
    page = _page(boss, case.id)
    link = re.findall(r'href="(/admin/notices/\d+\.pdf)"[^>]*data-testid="print-notice"', page)
    assert len(link) == 1 and "139****5678" in page and "13912345678" not in page
    printed = boss.get(link[0])
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    text = "".join(extract_text(printed.data).split())
    assert "资格异议处理结果告知书" in text and f"编号：{case.number}-01" in text and "异议人" in text
    assert "资格条件“持有本市居住证”的系统提示原因提出的异议" in text
    assert "处理结果：核实后更正。" in text
    assert "理由：登记信息未同步，申请人提交的凭证证明满足该项资格条件。" in text
    assert "说明：申领回执显示2020-12-20已申领" in text
    assert "经按核实后的信息重新核查，您符合积分落户申请资格条件，可登录积分落户在线申报系统继续填报。" in text
    assert "朝阳区将台路5号院15号楼A座三层" in text and "010-57596123" in text
    notice = db.session.scalar(select(Notice).where(Notice.case_id == case.id))
    assert len(notice.short_text) <= 70 and notice.short_text in page
    assert sorted(r.channel for r in notice.deliveries) == ["feed", "sms"]


# 单位注册 by licence -------------------------------------------------------------------------
def _licence(uscc: str, name: str = "北京新注册科技有限公司") -> bytes:
    from backoffice.core.pdf import Document, render

    return render(Document(title="营业执照", paragraphs=[f"统一社会信用代码 {uscc}", f"名称 {name}",
                                                          "住所 北京市朝阳区测试路1号"]))


def _upload(api, uscc, pdf: bytes, name="北京新注册科技有限公司", district="朝阳区"):
    import io

    return api.post("/employers/licence", data={"uscc": uscc, "name": name, "district": district,
                                               "licence": (io.BytesIO(pdf), "营业执照.pdf")},
                    headers={"Content-Type": "multipart/form-data"})


NEW_UNIT = "91110105MA0000005X"  # Beijing, unknown to the tax-registration dataset


def test_a_unit_the_registries_refuse_uploads_its_licence_and_the_window_accepts_it(api, year_in, district, make,
                                                                                  client_for):
    from verifiers.identifiers import uscc_check_char

    unit = NEW_UNIT[:17] + uscc_check_char(NEW_UNIT[:17])
    year_in("application")
    refused = api.post("/employers", json={"uscc": unit, "name": "北京新注册科技有限公司", "district": "朝阳区"})
    assert refused.status_code == 409 and "未查询到该单位在京的税务登记" in refused.get_json()["error"]["message_zh"]
    # The licence must show the credit code, in one PDF of at most 1 MB; a Shanghai code is refused.
    wrong = _upload(api, unit, _licence(EMPLOYER_USCC))
    assert wrong.status_code == 422 and wrong.get_json()["error"]["fields"][0]["path"] == "files.licence"
    assert "证照中必须含有统一社会信用代码" in wrong.get_json()["error"]["message_zh"]
    assert _upload(api, unit, b"%PDF-1.4 " + b"x" * (1024 * 1024 + 1) + b"%%EOF").status_code in (413, 422)
    shanghai = _upload(api, SHANGHAI, _licence(SHANGHAI))
    assert shanghai.status_code == 409 and "310115" in shanghai.get_json()["error"]["message_zh"]
    made = _upload(api, unit, _licence(unit))
    assert made.status_code == 201, made.get_json()
    case_out = made.get_json()
    assert case_out["kind"] == "employer_registration" and case_out["queue"] == "eligibility"
    assert case_out["application_id"] is None and case_out["evidence"][0]["slot"] == "licence"

    case = db.session.scalar(select(ReviewCase).where(ReviewCase.number == case_out["number"]))
    reviewer = make.staff("reviewer", "朝阳区")
    db.session.commit()
    window = client_for(reviewer)
    worklist = window.get("/admin/queue_eligibility/").get_data(as_text=True)
    assert case.number in worklist and "单位注册" in worklist
    page = _page(window, case.id)
    assert 'data-testid="employer-registration"' in page and unit in page and "北京新注册科技有限公司" in page
    assert "未查询到该单位在京的税务登记" in page
    assert _post(window, case.id, "claim").status_code == 302
    response = _post(window, case.id, "decide", outcome="upheld", reason_code="licence_accepted",
                     note="营业执照与税务登记证明核验无误")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    db.session.expire_all()
    assert case.status == CaseStatus.closed  # no score changes: no countersign
    employer = db.session.scalar(select(Employer).where(Employer.uscc == unit))
    assert employer is not None and employer.district.name == "朝阳区"
    assert api.get(f"/cases/{case.number}").get_json()["decision"]["outcome"] == "upheld"


def test_the_window_refuses_a_licence_with_a_reason(api, year_in, district, make, client_for):
    from verifiers.identifiers import uscc_check_char

    unit = "91110105MA0000006" + uscc_check_char("91110105MA0000006")
    year_in("application")
    case_out = _upload(api, unit, _licence(unit)).get_json()
    case = db.session.scalar(select(ReviewCase).where(ReviewCase.number == case_out["number"]))
    reviewer = make.staff("reviewer", "朝阳区")
    db.session.commit()
    window = client_for(reviewer)
    _post(window, case.id, "claim")
    assert _post(window, case.id, "decide", outcome="rejected", reason_code="licence_no_tax",
                 note="无在京税务登记").status_code == 302
    db.session.expire_all()
    assert case.status == CaseStatus.closed
    assert db.session.scalar(select(Employer).where(Employer.uscc == unit)) is None
    decision = api.get(f"/cases/{case.number}").get_json()["decision"]
    assert decision["outcome"] == "rejected" and decision["note"] == "无在京税务登记"


def test_a_barred_unit_is_refused(api, year_in, district, monkeypatch):
    """An employer barred for fraud (第五篇) takes no part: registration and applications are refused."""
    from backoffice.eligibility import services

    year_in("application")
    monkeypatch.setattr(services, "is_barred", lambda uscc, year=None: uscc == EMPLOYER_USCC)
    refused = api.post("/applications", json=application_body())
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "employer.not_eligible"
    assert "被限制参加积分落户申报" in refused.get_json()["error"]["message_zh"]
    assert _applications() == 0
