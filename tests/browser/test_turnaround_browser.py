"""A district supervisor opens the turnaround dashboard: every chart is drawn by the
vendored Chart.js beside its table, and a screenshot is saved."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest


@pytest.fixture(scope="module")
def backlog_history(live_server, live_database, settings):
    """Thirty days of backlog rows on the live database (what the daily sweep records),
    and today's sweep, so the trend chart has a line to draw."""
    from backoffice.app import create_app
    from backoffice.extensions import db
    from backoffice.turnaround.sql import beijing_today
    from backoffice.turnaround.sweep import record_backlog, sweep

    app = create_app(dataclasses.replace(settings, database_url=live_database))
    with app.app_context():
        today = beijing_today()
        for back in range(29, 0, -1):
            record_backlog(today - timedelta(days=back))
        sweep(today)
        db.session.commit()
        db.engine.dispose()


def test_supervisor_dashboard_draws_every_chart(page, live_server, artifacts, sign_in, backlog_history):
    sign_in(page, live_server, "supervisor")
    page.click("text=办理时效")
    page.wait_for_url(f"{live_server}/admin/turnaround/")
    # dashboard.js marks the body once it has built the charts.
    page.wait_for_selector("body[data-charts-drawn]")
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() == 6
    assert page.get_attribute("body", "data-charts-drawn") == "6"
    # Chart.js owns each canvas and has painted pixels on it (not a blank canvas).
    painted = page.evaluate("""() => Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => {
        const chart = Chart.getChart(c);
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let inked = 0;
        for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) { inked++; } }
        const points = chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0;
        return {id: c.id, chart: !!chart, points: points, width: c.width, inked: inked};
    })""")
    for chart in painted:
        assert chart["chart"] and chart["width"] > 100, chart
        assert chart["inked"] > 1000, chart  # axes, labels and bars or lines
        assert chart["points"] > 0, chart
    # The district's own figures only, with each chart's table beside it.
    assert "朝阳区" in page.get_by_test_id("dashboard-scope").inner_text()
    assert page.locator("table[data-table=queues] tbody tr").count() == 8  # seven district queues and the total
    assert page.locator("table[data-table=backlog] tbody tr").count() == 30
    assert "海淀区" not in page.locator("table[data-table=overdue]").inner_text()
    page.screenshot(path=str(artifacts / "turnaround-dashboard.png"), full_page=True)
