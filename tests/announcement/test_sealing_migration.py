"""The migration seals the reporters already stored (plaintext before it) and unseals on downgrade."""
from __future__ import annotations

import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from backoffice.migrate import alembic_config, upgrade
from backoffice.settings import Settings

BEFORE = "72cf783cae6f"


@pytest.mark.no_db
def test_stored_reporters_become_ciphertext(tmp_path, monkeypatch):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("TIP_ENCRYPTION_KEYS", key)
    url = f"sqlite:///{tmp_path / 'tips.db'}"
    upgrade(url, BEFORE)
    engine = create_engine(url)
    with engine.begin() as conn:  # a tip received before the sealing (foreign keys are not enforced here)
        conn.execute(text("INSERT INTO tip_reports (case_id, reporter_name, reporter_id_number, reporter_phone, "
                          "statement) VALUES (7, '周晓梅', '110105199001010010', '13912345678', '伪造')"))
    upgrade(url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT reporter_name, reporter_id_number, reporter_phone, statement "
                                "FROM tip_reports")).one()
    assert all(value.startswith("gAAAAA") for value in row[:3]) and "周晓梅" not in "".join(row[:3])
    assert [Fernet(key).decrypt(v.encode()).decode() for v in row[:3]] == ["周晓梅", "110105199001010010",
                                                                            "13912345678"]
    assert Settings.from_env().resolved_tip_keys() == [key]
    command.downgrade(alembic_config(url), BEFORE)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT reporter_name FROM tip_reports")).scalar() == "周晓梅"
    engine.dispose()
