"""Registry verifiers over the fixture dataset: the handbook's shapes and words, idempotent."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from intake_support import CHEN, FIXTURE_DIR, LI, LIU, WANG, ZHANG, ZHAO, application_body
from sqlalchemy import func, select

from backoffice.audit.models import AuditEvent
from backoffice.extensions import db
from backoffice.intake.models import RegistryRecord
from backoffice.intake.registry import load_dataset
from verifiers.registry import DatasetError, months_between


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_load_twice_adds_nothing_the_second_time(app):
    first = load_dataset(FIXTURE_DIR, actor_label="test")
    rows = _count(RegistryRecord)
    second = load_dataset(FIXTURE_DIR, actor_label="test")
    assert _count(RegistryRecord) == rows == sum(c["added"] for c in first.values())
    assert all(c["added"] == c["updated"] == 0 for c in second.values())
    assert first["real_estate"]["added"] == 4 and first["education"]["added"] == 6


def test_registry_load_command_reports_a_bad_value_by_file_line_and_column(app, tmp_path, monkeypatch):
    from backoffice import cli, cliapp

    monkeypatch.setattr(cliapp, "cli_app", lambda: app)
    (tmp_path / "tax.csv").write_text("id_number,year,amount\n110105198503140013,2019,120000\n"
                                      "110105198503140014,2020,1\n", encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["registry", "load", str(tmp_path)])
    assert result.exit_code != 0 and "tax.csv:3: id_number:" in result.output
    assert _count(RegistryRecord) == 0
    ok = CliRunner().invoke(cli.main, ["registry", "load", str(FIXTURE_DIR)])
    assert ok.exit_code == 0 and "real_estate: 4 added" in ok.output


def test_dataset_errors_name_the_place():
    from verifiers.registry import parse_file

    with pytest.raises(DatasetError, match="rental.csv:1: colour: unknown column"):
        parse_file("rental", "lease_no,colour\n")
    with pytest.raises(DatasetError, match="real_estate.csv:2: registered:"):
        parse_file("real_estate", "certificate_no,owner_id,owner_name,district,use,registered\n"
                                  f"A1,{WANG},王伟,朝阳区,住宅,2014-13\n")
    with pytest.raises(DatasetError, match="duplicate of line 2"):
        parse_file("tax", f"id_number,year,amount\n{WANG},2019,1\n{WANG},2019,2\n")


def test_months_count_both_ends():
    assert months_between("2014-08", "2017-12") == 41
    assert months_between("2020-08", "2020-08") == 1
    assert months_between("2021-01", "2020-12") == 0


@pytest.fixture
def filed(api, year_in, district, registry_loaded):
    """filed(id_number, name, claims) → the application's claims after the verifiers ran."""
    year_in("application")

    def build(id_number, name, claims):
        created = api.post("/applications", json=application_body(id_number=id_number, name=name, claims=claims))
        assert created.status_code == 201, created.get_json()
        verified = api.post(f"/applications/{created.get_json()['id']}/verify")
        assert verified.status_code == 200
        return verified.get_json()["claims"]

    return build


def _house(kind, start, end, district="朝阳区", **filed):
    return {"indicator": "housing", "facts": {"type": kind, "from": start, "to": end, "district": district},
            "filed": filed}


def test_own_housing_valid_41_months_as_the_handbook_shows(filed):
    [claim] = filed(WANG, "王伟", [_house("own", "2014-08", "2017-12", certificate_no="京(2014)朝不动产权第0000041号")])
    registry = claim["registry"]
    assert registry["status"] == "valid" and registry["reason"] == "housing_valid_dates"
    assert registry["message"] == "有效" and registry["contestable"] is True
    assert registry["details"] == {
        "房源审核状态": "有效", "登簿日期(填发日期)": "2014-08", "权证失效日期": "2017-12",
        "有效的居住起始年月": "2014-08", "有效的居住终止年月": "2017-12", "居住月数": 41,
    }
    assert registry["verified"] == {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"}


def test_own_housing_clipped_to_the_register_and_the_cutoff(filed):
    [claim] = filed(WANG, "王伟", [_house("own", "2012-01", "2021-06", certificate_no="京(2014)朝不动产权第0000041号")])
    details = claim["registry"]["details"]
    assert (details["有效的居住起始年月"], details["有效的居住终止年月"], details["居住月数"]) == ("2014-08", "2017-12", 41)


def test_listing_not_in_the_register_or_not_residential_is_invalid(filed):
    missing, not_home = filed(LI, "李娜", [
        _house("own", "2015-01", "2020-12", certificate_no="X京房权证朝字第999999号"),
        _house("own", "2018-03", "2020-12", certificate_no="京(2018)朝不动产权第0000300号"),
    ])
    for claim in (missing, not_home):
        registry = claim["registry"]
        assert registry["status"] == "invalid" and registry["message"] == "无效(房源无效)"
        assert registry["details"]["房源审核状态"] == "无效(房源无效)"
        assert registry["details"]["登簿日期(填发日期)"] == "--" and registry["details"]["居住月数"] == 0
        assert registry["verified"] is None and registry["contestable"] is True


def test_spouse_housing(filed):
    good, wrong_name = filed(LIU, "刘敏", [
        _house("own", "2016-05", "2020-12", district="海淀区", certificate_no="京(2016)海不动产权第0000100号",
               owner="spouse", spouse={"id_number": ZHAO, "name": "赵刚"}),
        _house("own", "2016-05", "2020-12", district="海淀区", certificate_no="京(2016)海不动产权第0000100号",
               owner="spouse", spouse={"id_number": ZHAO, "name": "赵钢"}),
    ])
    assert good["registry"]["status"] == "valid" and good["registry"]["details"]["居住月数"] == 56
    assert good["registry"]["verified"]["district"] == "海淀区"
    assert wrong_name["registry"]["message"] == "无效(配偶信息无效)"
    assert wrong_name["registry"]["reason"] == "housing_spouse_invalid"
    assert wrong_name["registry"]["contestable"] is False


def test_dormitory_owned_by_the_employer(filed):
    [claim] = filed(WANG, "王伟", [_house("dorm", "2020-08", "2020-12", certificate_no="京(2019)朝不动产权第0000200号")])
    assert claim["registry"]["status"] == "valid" and claim["registry"]["details"]["居住月数"] == 5


def test_rental_results(filed):
    leases = ["110105202008000001", "110105202008000002", "110105202008000003", "110105202008009999",
              "110105202008000004"]
    claims = filed(ZHANG, "张强", [_house("rental", "2020-08", "2020-12", lease_no=n) for n in leases])
    verification, non_residential, no_title, mismatch, valid = (c["registry"] for c in claims)
    assert verification["reason"] == "rental_needs_verification" and verification["contestable"] is True
    assert verification["message"] == "您的租赁备案房屋需要进一步进行房源核验"
    assert verification["details"]["比对结果"] == "无效(备案合同无效)"
    assert verification["details"]["原因"] == verification["message"]
    assert non_residential["reason"] == "rental_non_residential" and non_residential["contestable"] is False
    assert no_title["reason"] == "rental_no_title_certificate" and no_title["contestable"] is False
    assert mismatch["reason"] == "rental_record_mismatch" and mismatch["contestable"] is False
    assert mismatch["message"].startswith("您录入的租赁合同备案编号不存在")
    assert valid["status"] == "valid" and valid["details"]["居住月数"] == 5
    assert valid["details"]["合同开始日期"] == "2020-08-01"
    assert valid["verified"] == {"type": "rental", "from": "2020-08", "to": "2020-12", "district": "西城区"}


def _edu(level, degree, graduated, **filed):
    return {"indicator": "education", "facts": {"level": level, "degree": degree, "graduated": graduated},
            "filed": filed}


def test_education_results_in_the_handbooks_words(filed):
    [valid] = filed(WANG, "王伟", [_edu("bachelor", "bachelor", "2005-07", diploma_no="100011200505000001",
                                        degree_no="100012200505000001")])
    assert valid["registry"]["status"] == "valid"
    assert valid["registry"]["verified"] == {"level": "bachelor", "degree": "bachelor", "graduated": "2005-07"}
    [identity] = filed(LI, "李娜", [_edu("bachelor", None, "2005-07", diploma_no="100011200505000002")])
    assert identity["registry"]["message"] == "教育部学历备案信息中的姓名、出生日期、性别与身份证上的姓名、出生日期、性别不一致"
    assert identity["registry"]["contestable"] is True
    [date_format] = filed(ZHANG, "张强", [_edu(None, "master", "2010-07", degree_no="100012201005000003")])
    assert date_format["registry"]["message"] == "获得学位日期不是‘年月’或‘年月日’格式"
    [level] = filed(LIU, "刘敏", [_edu("bachelor", None, "2008-07", diploma_no="100011201005000004")])
    assert level["registry"]["message"] == "您选择的‘学历(学位)层次’与填写的‘学历证书编号’不匹配"
    assert level["registry"]["contestable"] is False
    late, missing = filed(CHEN, "陈静", [_edu("master", None, "2021-01", diploma_no="100011202105000005"),
                                          _edu("master", None, "2010-01", diploma_no="nothing")])
    assert late["registry"]["message"] == "取得学历(学位)时间应为2020年12月31日以前"
    assert missing["registry"]["message"] == "未查询到您填写的学历(学位)信息"


def test_tax_results_per_year(filed):
    [claim] = filed(LI, "李娜", [{"indicator": "tax"}])
    registry = claim["registry"]
    assert registry["message"] == "2020年无效; 2019年有效; 2018年无效"
    assert registry["details"]["比对结果"] == "有效 (1年)"
    assert registry["details"]["年度结果"] == "2020年无效; 2019年有效; 2018年无效;"
    assert registry["status"] == "valid" and registry["reason"] == "tax_year_invalid"
    assert registry["contestable"] is True
    assert registry["verified"] == {"annual": {"2018": 50000, "2019": 120000, "2020": 30000}, "violations": 0}
    [violation] = filed(ZHANG, "张强", [{"indicator": "tax"}])
    assert violation["registry"]["details"]["近五年在本市涉税违法次数"] == 1  # the 2014 one is too old
    assert violation["registry"]["verified"]["violations"] == 1


def test_social_insurance_age_and_police(filed):
    employment, age, law = filed(LIU, "刘敏", [{"indicator": "employment"}, {"indicator": "age"},
                                               {"indicator": "law_abiding"}])
    # Every applicant has seven years of insurance now (第一篇 三), insured by the applying unit.
    assert employment["registry"]["status"] == "valid"
    assert employment["registry"]["details"]["参保单位"] == "91110105MA00000012"
    assert age["registry"]["verified"] == {"birth_date": "1987-01-01"}
    assert law["registry"]["verified"] == {"detentions": 1}
    [wang] = filed(WANG, "王伟", [{"indicator": "employment"}])
    insurance = wang["registry"]["verified"]["insurance"]
    assert insurance["pension"] == {"paid": [["2010-01", "2017-06"], ["2017-07", "2020-12"]], "back_paid": ["2013-04"]}
    assert wang["registry"]["verified"]["work_districts"] == [
        {"from": "2010-01", "to": "2017-06", "district": "朝阳区"},
        {"from": "2017-07", "to": "2020-12", "district": "通州区"}]


def test_the_insuring_unit_of_the_latest_months_must_be_the_applying_unit(filed):
    # 陈静 is insured by another Beijing unit (91110108MA0000002G) since 2019-07 but applies
    # through 91110105MA00000012: "本单位员工是指用人单位正常连续为其缴纳社会保险费…的申请人".
    [employment] = filed(CHEN, "陈静", [{"indicator": "employment"}])
    registry = employment["registry"]
    assert registry["status"] == "invalid" and registry["verified"] is None
    assert registry["message"].startswith("2020-12参保单位（91110108MA0000002G）与申报单位（91110105MA00000012）不一致")
    assert "本单位员工是指用人单位正常连续为其缴纳社会保险费并在北京市实际就业的申请人" in registry["message"]


def test_running_a_verifier_twice_gives_the_same_result_and_no_new_rows(api, filed):
    claims = filed(WANG, "王伟", [_house("own", "2014-08", "2017-12", certificate_no="京(2014)朝不动产权第0000041号"),
                                  {"indicator": "tax"}])
    audit_rows = _count(AuditEvent)
    application_id = claims[0]["application_id"]
    again = api.post(f"/applications/{application_id}/verify").get_json()["claims"]
    assert [c["changed"] for c in again] == [False, False]
    assert [c["registry"] for c in again] == [c["registry"] for c in claims]
    one = api.post(f"/claims/{claims[0]['id']}/verify").get_json()
    assert one["changed"] is False and one["registry"] == claims[0]["registry"]
    assert _count(AuditEvent) == audit_rows


def test_innovation_and_overseas_education_stay_with_their_departments(filed):
    award, overseas = filed(WANG, "王伟", [
        {"indicator": "innovation", "facts": {"code": "beijing_sci_tech", "grade": "second", "rank": 2}},
        _edu("master", None, "2012-07", kind="overseas", certificate_no="120190000001"),
    ])
    assert award["registry"]["status"] == overseas["registry"]["status"] == "pending"
    assert award["changed"] is overseas["changed"] is False
