"""A live server on a database of its own, for attacks that need real concurrency (threads
against a real server, real transactions): the rolled-back test transaction of the other
tests would serialise them."""
from __future__ import annotations

import dataclasses
import threading
import uuid

import pytest


@pytest.fixture(scope="module")
def live(settings, tmp_path_factory):
    from werkzeug.serving import make_server

    from backoffice.app import create_app
    from backoffice.extensions import db
    from backoffice.migrate import upgrade
    from backoffice.reference.data import DISTRICTS
    from backoffice.reference.models import District
    from backoffice.staff.services import create_staff
    from support import TEST_PASSWORD, fresh_database

    with fresh_database("bo_sec", tmp_path_factory.mktemp("sec")) as url:
        upgrade(url)
        app = create_app(dataclasses.replace(settings, database_url=url, queue_namespace=f"sec{uuid.uuid4().hex[:8]}"))
        with app.app_context():
            code, name, address, phone, core = next(d for d in DISTRICTS if d[1] == "朝阳区")
            district = District(code=code, name=name, window_address=address, phone=phone, core_six=core)
            db.session.add(district)
            db.session.flush()
            create_staff("owner", "账户主人", TEST_PASSWORD, "reviewer", district.id, actor_label="test")
            db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app}
        finally:
            server.shutdown()
            with app.app_context():
                db.engine.dispose()
