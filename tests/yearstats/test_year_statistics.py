"""The year statistics over HTTP on a hand-built year: every figure below was counted by hand
from the fixture (the comments say how), then read from the page's CSV/XLSX exports to the
last row."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from backoffice.cases.models import CaseStatus, Decision, Outcome
from backoffice.extensions import db

CY, HD = "朝阳区", "海淀区"
NOW = datetime(2021, 11, 1, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def year(make):
    """Nine applications of 2021 (total, admitted, revoked, qualified):

    甲 (朝阳): 1 98.50 A Q · 2 97.13 A revoked · 3 91.00 · 9 60.00
    乙 (朝阳): 4 85.40 · 5 not scored
    丙 (海淀): 6 99.00 A Q · 7 97.13 A Q · 8 72.00
    """
    e1 = make.employer(CY, "北京甲科技有限公司")
    e2 = make.employer(CY, "北京乙咨询有限公司")
    e3 = make.employer(HD, "北京丙软件有限公司")
    spec = {1: (e1, "98.50", True), 2: (e1, "97.13", True), 3: (e1, "91.00", False), 9: (e1, "60.00", False),
            4: (e2, "85.40", False), 5: (e2, None, False),
            6: (e3, "99.00", True), 7: (e3, "97.13", True), 8: (e3, "72.00", False)}
    apps = {}
    for n, (employer, total, admitted) in spec.items():
        a = make.application(CY if employer is not e3 else HD, employer=employer)
        a.total = Decimal(total) if total else None
        a.admitted = admitted
        apps[n] = a
    for n in (1, 2, 6, 7):
        apps[n].qualified_at = NOW
    apps[2].revoked_at = NOW
    apps[2].revoked_reason = "经核查提供虚假材料"
    db.session.flush()

    # Registry results: invalid housing listings (1, 3, 6, 8), education (4: date, 7: not found); valid housing (2).
    claims = {}
    for n in (1, 3, 6, 8):
        claims[n] = make.claim(apps[n])
    claims[4] = make.claim(apps[4], indicator="education", reason="edu_date_after_cutoff", claimed={"level": "bachelor"},
                           message="取得学历(学位)时间应为2020年12月31日以前")
    make.claim(apps[7], indicator="education", reason="edu_not_found", claimed={"level": "master"},
               message="未查询到您填写的学历(学位)信息")
    make.claim(apps[2], status="valid", reason=None, message="有效")

    staff = make.staff("reviewer", CY)

    def decide(case, *outcomes, status=CaseStatus.closed):
        for outcome in outcomes:
            db.session.add(Decision(case_id=case.id, outcome=Outcome(outcome), reason_code="verified_valid",
                                    note="核实", decided_by_id=staff.id))
        case.status = status
        case.closed_at = NOW if status == CaseStatus.closed else None
        db.session.flush()

    # 复查 and 异议申诉 (reason code as intake sets it: the registry reason contested, or the appeal's indicator):
    c1 = make.case(apps[1], district=CY, claim=claims[1])  # review, 朝阳, housing: returned, then upheld
    decide(c1, "returned", "upheld")
    c2 = make.case(apps[3], district=CY, claim=claims[3])  # review, 朝阳, housing: rejected
    decide(c2, "rejected")
    c3 = make.case(apps[4], district=CY, claim=claims[4], queue="education")  # review, 朝阳, education: waiting
    decide(c3, "returned", status=CaseStatus.awaiting_materials)
    c4 = make.case(apps[6], district=HD, claim=claims[6], queue="appeals", kind="appeal")  # appeal, 海淀: corrected
    decide(c4, "corrected")
    c5 = make.case(apps[8], district=HD, claim=claims[8])  # review, 海淀, housing: open, undecided
    # review, 朝阳, housing: returned, then resubmitted — in review again, no longer waiting for materials.
    c6 = make.case(apps[9], district=CY, claim=claims[3])
    decide(c6, "returned", status=CaseStatus.in_review)
    for case, code in ((c1, "housing_listing_invalid"), (c2, "housing_listing_invalid"), (c3, "edu_date_after_cutoff"),
                       (c4, "housing"), (c5, "housing_listing_invalid"), (c6, "housing_listing_invalid")):
        case.reason_code = code
    # Tips: one proven (朝阳, app 2), one open (海淀).
    t1 = make.case(apps[2], district=CY, queue="tips", kind="tip")
    decide(t1, "upheld")
    make.case(apps[7], district=HD, queue="tips", kind="tip")
    # Settlement materials: 朝阳 in review, 海淀 closed.
    s1 = make.case(apps[1], district=CY, queue="settlement", kind="settlement")
    s1.status = CaseStatus.in_review
    s2 = make.case(apps[6], district=HD, queue="settlement", kind="settlement")
    s2.status, s2.closed_at = CaseStatus.closed, NOW
    db.session.flush()

    people = {"city": make.staff("supervisor"), "hd": make.staff("supervisor", HD),
              "reviewer": make.staff("reviewer", HD), "admin": make.staff("administrator")}
    db.session.commit()
    return people, make.district(CY).id, make.district(HD).id


def _csv(client, key, **args) -> list[list[str]]:
    query = "&".join(f"{k}={v}" for k, v in {"year": 2021, **args}.items())
    response = client.get(f"/admin/yearstats/export/{key}.csv?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    data = response.data
    assert data.startswith("\ufeff".encode())  # the BOM Excel needs for Chinese
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


CITY = {
    # 朝阳: apps 1,2,3,4,5,9 (6), admitted 1,2 → 2/6; 海淀: 6,7,8 (3), admitted 6,7 → 2/3.
    "districts": [["区", "申报人数", "取得资格人数", "落户比例"],
                  ["朝阳区", "6", "2", "33.3%"], ["海淀区", "3", "2", "66.7%"], ["合计", "9", "4", "44.4%"]],
    # 甲 4 apps (1,2,3,9) 2 admitted; 丙 3 apps 2 admitted; 乙 2 apps none.
    "employers": [["用人单位", "业务办理区", "申报人数", "取得资格人数", "落户比例"],
                  ["北京甲科技有限公司", "朝阳区", "4", "2", "50.0%"],
                  ["北京丙软件有限公司", "海淀区", "3", "2", "66.7%"],
                  ["北京乙咨询有限公司", "朝阳区", "2", "0", "0.0%"]],
    # 60.00 | 72.00 | 85.40 | 91.00 | 97.13 97.13 98.50 99.00 (all four admitted); app 5 has no total.
    "scores": [["积分区间（含下限）", "申报人数", "取得资格人数"],
               ["60–65", "1", "0"], ["70–75", "1", "0"], ["85–90", "1", "0"], ["90–95", "1", "0"],
               ["95–100", "4", "4"]],
    # The lowest admitted total is 97.13.
    "cutoffs": [["年度", "落户分值", "来源"], ["2018", "90.75", "已公布"], ["2019", "93.58", "已公布"],
                ["2020", "97.13", "已公布"], ["2021", "97.13", "本系统排名"]],
    "invalid": [["指标", "无效原因", "条数"],
                ["合法稳定住所", "无效(房源无效)", "4"],
                ["教育背景", "取得学历(学位)时间应为2020年12月31日以前", "1"],
                ["教育背景", "未查询到您填写的学历(学位)信息", "1"],
                ["合计", "", "6"]],
    "contests_indicator": [
        ["类型", "指标", "受理", "在办", "其中待补正", "予以支持", "核实后更正", "不予支持", "支持率（办结中）"],
        ["异议申诉", "合法稳定住所", "1", "0", "0", "0", "1", "0", "100.0%"],  # c4
        # c1 upheld (latest), c2 rejected, c5 open, c6 open (resubmitted: not awaiting materials)
        ["复查", "合法稳定住所", "4", "2", "0", "1", "0", "1", "50.0%"],
        ["复查", "教育背景", "1", "1", "1", "0", "0", "0", "—"]],  # c3 waiting
    "contests_district": [
        ["类型", "区", "受理", "在办", "其中待补正", "予以支持", "核实后更正", "不予支持", "支持率（办结中）"],
        ["异议申诉", "海淀区", "1", "0", "0", "0", "1", "0", "100.0%"],
        ["复查", "朝阳区", "4", "2", "1", "1", "0", "1", "50.0%"],  # c1, c2, c3 (awaiting), c6
        ["复查", "海淀区", "1", "1", "0", "0", "0", "0", "—"]],
    "tips": [["状态或结果", "举报件数"], ["在办：待领取", "1"], ["已办结：予以支持", "1"], ["合计", "2"]],
    "revocations": [["区", "取消资格人数"], ["朝阳区", "1"], ["合计", "1"]],
    # Qualified and not revoked: 1, 6, 7.
    "settlement": [["事项", "人数/件数"], ["取得积分落户资格", "3"], ["落户材料审核：待领取", "0"],
                   ["落户材料审核：审核中", "1"], ["落户材料审核：待补正材料", "0"], ["落户材料审核：待主管复核", "0"],
                   ["落户材料审核：已办结", "1"]],
}

HAIDIAN = {
    "districts": [["区", "申报人数", "取得资格人数", "落户比例"], ["海淀区", "3", "2", "66.7%"], ["合计", "3", "2", "66.7%"]],
    "employers": [["用人单位", "业务办理区", "申报人数", "取得资格人数", "落户比例"],
                  ["北京丙软件有限公司", "海淀区", "3", "2", "66.7%"]],
    "scores": [["积分区间（含下限）", "申报人数", "取得资格人数"], ["70–75", "1", "0"], ["95–100", "2", "2"]],
    # The cut-off is the city's in every scope.
    "cutoffs": CITY["cutoffs"],
    "invalid": [["指标", "无效原因", "条数"], ["合法稳定住所", "无效(房源无效)", "2"],
                ["教育背景", "未查询到您填写的学历(学位)信息", "1"], ["合计", "", "3"]],
    "contests_district": [
        ["类型", "区", "受理", "在办", "其中待补正", "予以支持", "核实后更正", "不予支持", "支持率（办结中）"],
        ["异议申诉", "海淀区", "1", "0", "0", "0", "1", "0", "100.0%"],
        ["复查", "海淀区", "1", "1", "0", "0", "0", "0", "—"]],
    "tips": [["状态或结果", "举报件数"], ["在办：待领取", "1"], ["合计", "1"]],
    "revocations": [["区", "取消资格人数"], ["合计", "0"]],
    "settlement": [["事项", "人数/件数"], ["取得积分落户资格", "2"], ["落户材料审核：待领取", "0"],
                   ["落户材料审核：审核中", "0"], ["落户材料审核：待补正材料", "0"], ["落户材料审核：待主管复核", "0"],
                   ["落户材料审核：已办结", "1"]],
}


def test_the_city_figures_equal_the_hand_count(year, client_for):
    people, _cy, _hd = year
    client = client_for(people["city"])
    page = client.get("/admin/yearstats/?year=2021")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "2021年度积分落户统计" in html and "2021年度落户分值：97.13分（全市）" in html
    for key, expected in CITY.items():
        assert _csv(client, key) == expected, key
        assert f'data-testid="section-{key}"' in html and f'id="chart-data-{key}"' in html


def test_a_district_supervisor_sees_their_district_only(year, client_for):
    people, cy, hd = year
    client = client_for(people["hd"])
    html = client.get("/admin/yearstats/?year=2021").get_data(as_text=True)
    assert "海淀区" in html and "北京甲科技有限公司" not in html
    for key, expected in HAIDIAN.items():
        assert _csv(client, key) == expected, key
    # Another district, asked for by URL, is refused; so are roles without the statistics.
    assert client.get(f"/admin/yearstats/?year=2021&district={cy}").status_code == 403
    assert client.get(f"/admin/yearstats/export/districts.csv?year=2021&district={cy}").status_code == 403
    assert client_for(people["reviewer"]).get("/admin/yearstats/?year=2021").status_code == 403
    # A city-level user picks 海淀 and gets the same figures.
    city = client_for(people["city"])
    assert _csv(city, "contests_district", district=hd) == HAIDIAN["contests_district"]


def test_xlsx_exports_keep_numbers_to_the_last_row(year, client_for):
    people, _cy, _hd = year
    client = client_for(people["admin"])
    response = client.get("/admin/yearstats/export/districts.xlsx?year=2021")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["区", "申报人数", "取得资格人数", "落户比例"]
    assert rows[1][:3] == ["朝阳区", 6, 2] and rows[1][3] == pytest.approx(2 / 6)
    assert rows[-1][:3] == ["合计", 9, 4] and rows[-1][3] == pytest.approx(4 / 9)
    response = client.get("/admin/yearstats/export/cutoffs.xlsx?year=2021")
    rows = [list(r) for r in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)]
    assert rows[-1] == ["2021", 97.13, "本系统排名"]


@pytest.mark.no_db
def test_on_postgresql_the_statements_run_side_by_side_on_one_snapshot(app):
    """The page's statements run on other connections, each importing the request transaction's
    snapshot (read only), so every table reads the same committed state."""
    from sqlalchemy import func, literal_column, select

    from backoffice.yearstats.figures import fetch

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the statements run side by side on PostgreSQL only")
        try:
            own = db.session.scalar(select(func.pg_backend_pid()))
            probe = select(func.pg_backend_pid(), literal_column("pg_current_snapshot()::text"),
                           func.current_setting("transaction_isolation"), func.current_setting("transaction_read_only"))
            rows = fetch({"a": probe, "b": probe, "c": probe})
        finally:
            db.session.rollback()
            db.session.remove()
    (a,), (b,), (c,) = rows["a"], rows["b"], rows["c"]
    assert own not in {a[0], b[0], c[0]}
    assert a[1] == b[1] == c[1]  # the same snapshot, whatever other sessions committed meanwhile
    assert a[2:] == ("repeatable read", "on")
