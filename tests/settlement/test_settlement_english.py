"""The settlement workspace in English: no Chinese outside handbook quotations (lang="zh-Hans")
and names (issue 13 §4; the other main pages are in tests/test_english_pages.py)."""
from __future__ import annotations

from backoffice.extensions import db
from backoffice.settlement import services

from english_pages import chinese_left, data_names
from settlement_support import child


def test_the_settlement_workspace_in_english(api, qualified, pdf_bytes, make, client_for):
    application = qualified()
    response = api.submit(application.id, children=[child("小明", "2012-05-01", 1)],
                          files={"id_document": pdf_bytes})
    assert response.status_code == 201, response.get_json()
    s = services.settlement_of(application)
    reviewer = make.staff("reviewer", "朝阳区")
    reviewer.locale = "en"
    db.session.commit()
    html = client_for(reviewer).get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    assert "Settlement" in html
    assert "Legal housing: " in html  # the system check, in English
    left = chinese_left(html, data_names(db.session) | {"小明"})
    assert not left, "the settlement workspace in English still shows:\n" + "\n".join(left)
