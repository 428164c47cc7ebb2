"""The main pages in English carry no Chinese outside handbook quotations (marked lang="zh-Hans")
and data (people's, employers' and districts' names): issue 13 §4. The settlement workspace
is checked in tests/settlement/test_settlement_english.py (it needs that package's fixtures)."""
from __future__ import annotations

from datetime import date

import pytest

from backoffice.extensions import db

from english_pages import chinese_left, data_names

OWN = "朝阳区"


@pytest.fixture
def people(make):
    staff = {
        "reviewer": make.staff("reviewer", OWN),
        "supervisor": make.staff("supervisor", OWN),
        "city_supervisor": make.staff("supervisor"),
        "administrator": make.staff("administrator"),
    }
    for person in staff.values():
        person.locale = "en"
    db.session.commit()
    return staff


@pytest.fixture
def a_case(make, people):
    case = make.case(district=OWN, queue="housing", received=date.today())
    case.assignee_id = people["reviewer"].id
    db.session.commit()
    return case


@pytest.mark.parametrize("role, url", [
    ("reviewer", "/admin/"),
    ("reviewer", "/admin/queue_housing/"),
    ("reviewer", "workspace"),
    ("supervisor", "/admin/turnaround/"),
    ("city_supervisor", "/admin/announcement/"),
    ("supervisor", "/admin/yearstats/"),
    ("administrator", "/admin/jobs/"),
])
def test_an_english_page_has_no_chinese_outside_quotations_and_names(role, url, people, a_case, client_for):
    if url == "workspace":
        url = f"/admin/case/{a_case.id}/"
    response = client_for(people[role]).get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.get_data(as_text=True)
    assert '<html lang="en"' in html or "lang=\"en\"" in html or "Sign out" in html  # it is the English page
    left = chinese_left(html, data_names(db.session))
    assert not left, f"{url} in English still shows:\n" + "\n".join(left)


def test_the_check_sees_chinese_and_skips_quotations_and_names():
    html = ('<p>Case <span lang="zh-Hans">落户资格保留2年</span> for 张三</p><script>var a = "脚本";</script>'
            '<input placeholder="说明">')
    assert chinese_left(html, {"张三"}) == ["说明"]
    assert chinese_left('<p>Case</p><p lang="zh-Hans">逾期未办理的视为自行放弃</p>', set()) == []
