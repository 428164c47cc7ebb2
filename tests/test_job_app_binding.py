"""Jobs run in the app the worker layer binds (queues/jobs.py never builds one itself: it sits
below the web and command-line layer); a job's committed outbox rows are pushed by the hook the
app carries."""
from __future__ import annotations

import pytest

from queues import jobs, relay


@pytest.fixture
def unbound():
    jobs.bind_app(None)
    yield
    jobs.bind_app(None)


def test_without_a_bound_app_a_job_says_how_to_run_it(unbound):
    with pytest.raises(RuntimeError, match="backoffice worker"):
        jobs.job_app()


def test_a_bound_factory_makes_the_app_once_on_first_use(unbound, app):
    made = []
    jobs.bind_app(None, factory=lambda: made.append(app) or app)
    assert made == []
    assert jobs.job_app() is app and jobs.job_app() is app
    assert made == [app]


def test_the_app_carries_the_outbox_push_jobs_use(app):
    assert app.extensions[jobs.OUTBOX_PUSH] is relay.push
