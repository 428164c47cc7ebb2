"""The jobs page (后台任务), administrators only: a Flask-Admin BaseView."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup, escape

from backoffice.admin import labels
from backoffice.admin.base import ProtectedView
from backoffice.extensions import db
from backoffice.i18n import _
from backoffice.core.timefmt import beijing_minute
from backoffice.jobs import services
from backoffice.outbox.services import pending_rescore
from backoffice.staff.permissions import can_write_area
from queues.relay import relay_client
from backoffice.notices.services import delivery_problems


def _connection():
    return relay_client(current_app.config["BACKOFFICE"])


class JobsView(ProtectedView):
    area = "jobs"

    @expose("/")
    def index(self):
        settings = current_app.config["BACKOFFICE"]
        year_rescores = []
        try:
            connection = _connection()
            overview = services.overview(connection, settings)
            if overview.redis_error is None:
                year_rescores = services.year_rescores(connection, settings)
        except OSError as exc:  # the embedded server could not even be started
            overview = services.Overview([], [], redis_error=str(exc))

        return self.render("jobs/index.html", overview=overview, backlog=services.outbox_backlog(),
                           year_rescores=year_rescores,
                           notice_problems=delivery_problems(),
                           may_retry=bool(can_write_area(current_user, self.area)), when=beijing_minute,
                           # Queues, jobs, worker states and outbox requests in words, not their codes.
                           queue_label=labels.queue_label, job_label=labels.job_label,
                           worker_state=labels.worker_state_label, topic_label=labels.topic_label,
                           job_arguments=labels.job_arguments)

    @expose("/retry", methods=["POST"])
    def retry(self):
        verdict = can_write_area(current_user, self.area)
        if not verdict:
            abort(403, description=verdict.message)
        job_id = request.form.get("job_id", "")
        purpose = request.form.get("queue", "")
        try:
            services.retry_failed(_connection(), current_app.config["BACKOFFICE"], purpose, job_id)
        except services.RetryRefused as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("已重新排队：%(labels_queue_label_purpose)s",
                    labels_queue_label_purpose=labels.queue_label(purpose)), "success")
        return redirect(url_for(".index"))


# "Rescoring pending" beside an application's total ----------------------------------------
def pending_on_page(application_ids) -> set[int]:
    """Computed once per list page (ApplicationView.get_list) and kept for the formatters."""
    g.pending_rescore = pending_rescore(application_ids)
    return g.pending_rescore


def total_with_pending(view, context, model, name):
    """The total, with a "rescoring pending" badge while a rescore request of the
    application is undelivered, queued, running or failed."""
    pending = g.get("pending_rescore")
    if pending is None:  # the details page: one application
        pending = pending_rescore([model.id])
    value = "" if model.total is None else escape(str(model.total))
    if model.id in pending:
        label = escape(_("重新计分中"))
        return Markup(f'{value} <span class="badge badge-warning" data-testid="rescoring-pending">{label}</span>')
    return value
