"""Serving evidence PDFs to staff who may see their case."""
from __future__ import annotations

from flask import abort, current_app, send_file

from backoffice.audit.services import record
from verifiers.uploads import path_for
from backoffice.i18n import _


def send_evidence(evidence):
    """Callers have already applied the district rule (the file was found through a scoped query)."""
    settings = current_app.config["BACKOFFICE"]
    path = path_for(evidence.sha256, settings.upload_dir)
    if not path.exists():
        abort(410, description=_("文件已不在存储中"))
    record(
        "evidence.viewed", "evidence_file", evidence.id,
        district_id=evidence.case.district_id if getattr(evidence, "case", None) else None,
        after={"case_id": evidence.case_id, "sha256": evidence.sha256},
    )
    response = send_file(path, mimetype="application/pdf", as_attachment=False,
                         download_name=f"{evidence.material_slot}.pdf", max_age=0)
    response.headers["Content-Disposition"] = f'inline; filename="{evidence.material_slot}.pdf"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Restrictive, and still rendered by Chromium's PDF viewer inside the workspace's iframe
    # (checked with Chromium 156): nothing loads, scripts in the PDF's document are sandboxed,
    # and only our own pages may frame it.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; object-src 'self'; frame-ancestors 'self'; sandbox"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
