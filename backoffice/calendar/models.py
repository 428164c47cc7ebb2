"""The official calendar and the working-day ordinals derived from it.

`OfficialDay`: one row per date the State Council's yearly notice (国务院办公厅关于YYYY年
部分节假日安排的通知) changes: a day off of a holiday (放假, weekend days of the break
included) or a weekend day worked instead (调休上班). Every other weekday is a working day,
every other Saturday and Sunday a day off. A year "is covered" when it has any entry.

`WorkingDayOrdinal`: for every date of ORDINAL_FIRST..ORDINAL_LAST, the working days from
ORDINAL_FIRST through it; working days in (a, b] = ordinal(b) - ordinal(a). Maintained by
`calendar.services` whenever the calendar changes, so SQL (the dashboard) counts working
days with two joins, whatever span of years the data covers.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.core.db import UTCDateTime, utcnow
from backoffice.extensions import db
from backoffice.i18n import N_
from backoffice.staff.models import Staff

KINDS = ("holiday", "workday")
KIND_LABELS = {"holiday": N_("放假"), "workday": N_("调休上班")}  # shown as _(label)

ORDINAL_FIRST = date(2000, 1, 1)
ORDINAL_LAST = date(2099, 12, 31)


class OfficialDay(db.Model):
    __tablename__ = "official_calendar"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64))  # the holiday: 春节, 国庆节 ...
    notice: Mapped[str] = mapped_column(String(120))  # 国办发明电〔2025〕7号, or the notice's title
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)

    updated_by: Mapped[Staff | None] = relationship()

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.name}"


class WorkingDayOrdinal(db.Model):
    __tablename__ = "working_day_ordinals"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer)
