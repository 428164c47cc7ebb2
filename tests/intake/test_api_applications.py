"""Applications and claims through the API: the contract, bad fields by path, phases."""
from __future__ import annotations

from sqlalchemy import func, select

from backoffice.applications.models import Application, IndicatorClaim
from backoffice.extensions import db

from intake_support import EMPLOYER_USCC, LI, application_body

OWN = {"indicator": "housing", "facts": {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"},
       "filed": {"certificate_no": "京(2014)朝不动产权第0000041号"}}


def _fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.get_json()
    return {f["path"]: f["code"] for f in response.get_json()["error"]["fields"]}


def test_create_application_with_claims(api, year_in, district):
    year_in("application")
    # Submitting waits for the employer's confirmation of the link (第二篇 一 4).
    refused = api.post("/applications", json=application_body(claims=[OWN, {"indicator": "employment"}],
                                                                submitted=True))
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "link.pending"
    response = api.post("/applications", json=application_body(claims=[OWN, {"indicator": "employment"}]))
    assert response.status_code == 201
    assert response.get_json()["submitted_at"] is None
    app_id = response.get_json()["id"]
    assert api.put(f"/applications/{app_id}/employer-link", json={"decision": "通过"}).status_code == 200
    response = api.patch(f"/applications/{app_id}", json={"submitted": True})
    assert response.status_code == 200
    body = response.get_json()
    assert body["year"] == 2021 and body["district"] == {"code": "110105", "name": "朝阳区"}
    assert body["applicant"]["id_number_masked"] == "110***********0013"
    assert body["employer"]["uscc"] == EMPLOYER_USCC and body["submitted_at"]
    housing, employment = body["claims"]
    assert housing["facts"] == OWN["facts"] and housing["filed"] == OWN["filed"]
    assert housing["registry"]["status"] == "pending"
    assert employment["facts"] == {"insurance": {}, "work_districts": []}
    # Owned by the employer's business district.
    application = db.session.get(Application, body["id"])
    assert application.district_id == district.id
    assert api.get(f"/applications/{body['id']}").get_json() == body


def test_every_bad_field_is_named_by_its_path(api, year_in, district):
    year_in("application")
    body = application_body(id_number="110105198503140014", uscc="91110105MA00000013", claims=[
        {"indicator": "housing", "facts": {"type": "own", "from": "2014-08", "to": "2020-13", "district": "朝阳区"}},
        {"indicator": "astrology"},
    ])
    body["applicant"]["colour"] = "blue"
    fields = _fields(api.post("/applications", json=body))
    assert fields == {"applicant.colour": "unknown_field", "claims[1].indicator": "enum"}
    del body["applicant"]["colour"]
    body["claims"].pop()
    response = api.post("/applications", json=body)
    fields = _fields(response)
    assert fields == {"applicant.id_number": "id_number", "employer.uscc": "uscc"}
    error = response.get_json()["error"]
    assert "校验位" in error["fields"][0]["message_zh"] and "check digit" in error["fields"][0]["message_en"]
    body = application_body(claims=[{"indicator": "housing", "facts": {"type": "own", "from": "2014-08",
                                                                       "to": "2020-13", "district": "朝阳区"}}])
    assert _fields(api.post("/applications", json=body)) == {"claims[0].facts.to": "facts"}
    body = application_body(claims=[{"indicator": "housing", "facts": OWN["facts"], "filed": {}}])
    assert _fields(api.post("/applications", json=body)) == {"claims[0].filed.certificate_no": "required"}
    # A unit is never created on the fly: an unregistered one is refused with the handbook's prompt.
    unregistered = api.post("/applications", json=application_body(uscc="91110108MA0000002G"))
    assert unregistered.status_code == 409
    assert unregistered.get_json()["error"]["code"] == "employer.not_eligible"
    assert "需在北京市行政区域内登记注册并进行税务登记" in unregistered.get_json()["error"]["message_zh"]
    assert _fields(api.post("/applications", json={"year": "2021"})) == {
        "year": "type", "applicant": "required", "employer": "required"}
    not_json = api.post("/applications", data="year=2021", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert not_json.status_code == 415
    broken = api.post("/applications", data="{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "body.json"
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0


def test_a_second_application_of_the_year_is_refused(api, year_in, district):
    year_in("application")
    assert api.post("/applications", json=application_body()).status_code == 201
    again = api.post("/applications", json=application_body())
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "application.exists"


def test_no_application_or_claim_after_the_application_phase(api, year_in, district):
    year = year_in("application")
    created = api.post("/applications", json=application_body(claims=[OWN])).get_json()
    claim_id = created["claims"][0]["id"]
    api.put(f"/claims/{claim_id}/registry-result", json={"status": "invalid", "reason": "housing_listing_invalid"})
    year_in("result_query")
    for response in (
        api.post("/applications", json=application_body(id_number=LI, name="李娜")),
        api.post(f"/applications/{created['id']}/claims", json={"indicator": "age"}),
        api.patch(f"/claims/{claim_id}", json={"facts": {**OWN["facts"], "from": "2015-01"}}),
        api.delete(f"/claims/{claim_id}"),
        api.patch(f"/applications/{created['id']}", json={"submitted": True}),
    ):
        assert response.status_code == 409, response.get_json()
        error = response.get_json()["error"]
        assert error["code"].startswith("phase.")
        assert "申报阶段结束后，无法新增、修改或保存指标信息" in error["message_zh"]
        assert "application phase" in error["message_en"]
    assert year.year == 2021


def test_claims_change_only_once_their_result_is_back(api, year_in, district):
    year_in("application")
    created = api.post("/applications", json=application_body(claims=[OWN])).get_json()
    claim_id = created["claims"][0]["id"]
    changed = {**OWN["facts"], "from": "2015-01"}
    under_check = api.patch(f"/claims/{claim_id}", json={"facts": changed})
    assert under_check.status_code == 409 and "审核中的指标信息无法删除或修改" in under_check.get_json()["error"]["message_zh"]
    api.put(f"/claims/{claim_id}/registry-result", json={"status": "invalid", "reason": "housing_listing_invalid"})
    response = api.patch(f"/claims/{claim_id}", json={"facts": changed})
    assert response.status_code == 200
    claim = response.get_json()
    assert claim["facts"] == changed and claim["registry"]["status"] == "pending"
    assert claim["registry"]["reason"] is None
    api.put(f"/claims/{claim_id}/registry-result", json={"status": "invalid", "reason": "housing_listing_invalid"})
    assert api.delete(f"/claims/{claim_id}").status_code == 204
    assert db.session.get(IndicatorClaim, claim_id) is None
    assert api.get(f"/claims/{claim_id}").status_code == 404


def test_one_claim_per_application_for_registry_indicators(api, year_in, district):
    year_in("application")
    created = api.post("/applications", json=application_body(claims=[{"indicator": "employment"}])).get_json()
    again = api.post(f"/applications/{created['id']}/claims", json={"indicator": "employment"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "claim.single"
    second_house = api.post(f"/applications/{created['id']}/claims", json=OWN)
    assert second_house.status_code == 201


def test_update_applicant_and_withdraw_submission(api, year_in, district):
    year_in("application")
    created = api.post("/applications", json=application_body()).get_json()
    api.put(f"/applications/{created['id']}/employer-link", json={"decision": "通过"})
    assert api.patch(f"/applications/{created['id']}", json={"submitted": True}).get_json()["submitted_at"]
    response = api.patch(f"/applications/{created['id']}", json={"phone": "13800000000", "submitted": False})
    assert response.status_code == 200
    body = response.get_json()
    assert body["applicant"]["phone"] == "13800000000" and body["submitted_at"] is None
    assert _fields(api.patch(f"/applications/{created['id']}", json={})) == {"(body)": "min_properties"}


def test_registry_result_recorded_by_a_department(api, year_in, district):
    year_in("application")
    created = api.post("/applications", json=application_body(claims=[
        {"indicator": "tax"}, OWN])).get_json()
    tax_id, house_id = created["claims"][0]["id"], created["claims"][1]["id"]
    response = api.put(f"/claims/{tax_id}/registry-result", json={
        "status": "valid", "reason": "tax_year_invalid", "message": "2020年无效; 2019年有效; 2018年无效",
        "verified": {"annual": {"2018": 50000, "2019": 120000, "2020": 30000}, "violations": 0}})
    assert response.status_code == 200
    registry = response.get_json()["registry"]
    assert registry["message"] == "2020年无效; 2019年有效; 2018年无效" and registry["contestable"] is True
    assert response.get_json()["changed"] is True
    assert api.put(f"/claims/{tax_id}/registry-result", json={
        "status": "valid", "reason": "tax_year_invalid", "message": "2020年无效; 2019年有效; 2018年无效",
        "verified": {"annual": {"2018": 50000, "2019": 120000, "2020": 30000}, "violations": 0}}
    ).get_json()["changed"] is False
    # A reason of another indicator, a reason that contradicts the status, facts of the wrong shape.
    assert _fields(api.put(f"/claims/{house_id}/registry-result",
                           json={"status": "invalid", "reason": "edu_not_found"})) == {"reason": "registry.reason_indicator"}
    assert _fields(api.put(f"/claims/{house_id}/registry-result",
                           json={"status": "valid", "reason": "housing_listing_invalid"})) == {"status": "registry.reason_status"}
    assert _fields(api.put(f"/claims/{house_id}/registry-result", json={
        "status": "valid", "reason": "housing_valid_dates", "verified": {"type": "own", "from": "2014-08"}})) == {
        "verified.district": "registry.verified"}
    spouse = api.put(f"/claims/{house_id}/registry-result", json={"status": "invalid", "reason": "housing_spouse_invalid"})
    assert spouse.get_json()["registry"]["message"] == "无效(配偶信息无效)"
    assert spouse.get_json()["registry"]["contestable"] is False
