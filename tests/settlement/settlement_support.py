"""Helpers of the settlement tests (a module of its own name: every conftest is named conftest)."""
from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

from support import csrf_token_from


def year_dates(today: date, announcement_end: date | None = None) -> dict:
    """Phases with the announcement closed on ``announcement_end`` (default 54 days ago)."""
    end = announcement_end or today - timedelta(days=54)
    d = lambda n: end + timedelta(days=n)  # noqa: E731
    return dict(application_start=d(-180), application_end=d(-150), result_query_start=d(-100),
                result_query_end=d(-90), announcement_start=d(-6), announcement_end=end,
                settlement_start=d(1), settlement_end=d(730))


def _pdf(title: str) -> bytes:
    from backoffice.core.pdf import Document, render

    return render(Document(title=title, paragraphs=["测试材料"]))


class Api:
    def __init__(self, client, token):
        self.client, self.token = client, token

    def _h(self):
        return {"Authorization": f"Bearer {self.token}"}

    def submit(self, application_id: int, *, place="own_home", certificate="X京房权证朝字第1号", children=(),
               files=None, **fields):
        """``files``: {slot: bytes}, or ``"all"`` for one PDF per document of the checklist the
        submission will have (of a family-planning group, its first proof), as a client that
        uploads everything does."""
        if files == "all":
            files = every_file(application_id, place=place, certificate=certificate, children=children, **fields)
        data = {"place": place, "place_certificate_no": certificate, "place_address": "北京市通州区某小区1号楼",
                "children": json.dumps(list(children), ensure_ascii=False), **fields}
        for slot, content in (files or {}).items():
            data[slot] = (io.BytesIO(content), f"{slot}.pdf", "application/pdf")
        return self.client.post(f"/api/v1/applications/{application_id}/settlement", data=data,
                                headers=self._h(), content_type="multipart/form-data")

    def progress(self, application_id: int):
        return self.client.get(f"/api/v1/applications/{application_id}/settlement", headers=self._h())

    def abandon(self, application_id: int):
        return self.client.post(f"/api/v1/applications/{application_id}/settlement/abandon", headers=self._h())


def every_file(application_id: int, *, place, certificate, children=(), **fields) -> dict[str, bytes]:
    """One PDF per document the submission's checklist asks for (settlement.services.checklist_for)."""
    from backoffice.applications.models import Application
    from backoffice.extensions import db
    from backoffice.settlement import services

    flag = lambda name, default: str(fields.get(name, default)).lower() not in ("false", "0", "")  # noqa: E731
    submission = services.Submission(place=place, place_certificate_no=certificate, children=tuple(children),
                                     has_archive=flag("has_archive", True),
                                     family_owns_home=flag("family_owns_home", False),
                                     agent_name=fields.get("agent_name"))
    files, groups = {}, set()
    for item in services.checklist_for(db.session.get(Application, application_id), submission):
        if item.upload and (item.one_of is None or item.one_of not in groups):
            files[item.code] = _pdf(item.code)
            groups.add(item.one_of)
    return files


def child(name="小明", born="2012-05-01", order=1, parent="father", id_number=None):
    from verifiers.identifiers import resident_id_check_char

    body = id_number or f"110105{born.replace('-', '')}{abs(hash(name)) % 1000:03d}"
    return {"name": name, "id_number": body + resident_id_check_char(body), "birth_date": born,
            "birth_order": order, "parent": parent}


def post_form(client, case_id: int, action: str, data: dict | None = None, page_html: str | None = None):
    """POST a workspace form with the page's CSRF token and the case's current version."""
    html = page_html or client.get(f"/admin/settlement/{case_id}/").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html)
    form = {"csrf_token": csrf_token_from(html), "version": version.group(1) if version else ""}
    form.update(data or {})
    return client.post(f"/admin/settlement/{case_id}/{action}", data=form)


def all_acceptable(settlement) -> dict:
    """The checklist form with every item that holds a file ticked acceptable (a slot with no
    file cannot be: issue 17 §6)."""
    from backoffice.cases.services import uploaded_slots
    from backoffice.settlement import services

    with_files = uploaded_slots(settlement.case)
    return {f"checklist-{i.code}-state": "acceptable" for i in services.checklist(settlement)
            if i.code in with_files or not i.upload}
