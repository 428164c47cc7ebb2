"""Reference data: district service windows, application years, employers."""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from backoffice.extensions import db
from verifiers.identifiers import uscc_problem


class District(db.Model):
    """One of the 17 district service windows of 附件5."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Administrative division code (110105 朝阳区); 经开区 uses 110400 as Beijing does.
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    window_address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(100))
    # 城六区: 东城、西城、朝阳、海淀、丰台、石景山 (职住区域 indicator).
    core_six: Mapped[bool] = mapped_column(default=False)

    def __str__(self) -> str:
        return self.name


class Year(db.Model):
    """An application year (申报年度) with its phase dates and quota."""

    __tablename__ = "years"
    __table_args__ = (
        CheckConstraint("year BETWEEN 2018 AND 2100", name="year_range"),
        CheckConstraint("quota > 0", name="quota_positive"),
        CheckConstraint("application_start <= application_end", name="application_order"),
        CheckConstraint("application_end < result_query_start", name="query_after_application"),
        CheckConstraint("result_query_start <= result_query_end", name="query_order"),
        CheckConstraint("result_query_end < announcement_start", name="announcement_after_query"),
        # 公示7天: the announcement lasts seven calendar days, both ends included.
        CheckConstraint("announcement_start <= announcement_end", name="announcement_order"),
        CheckConstraint("announcement_end < settlement_start", name="settlement_after_announcement"),
        CheckConstraint("settlement_start <= settlement_end", name="settlement_order"),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    application_start: Mapped[date] = mapped_column(Date)
    application_end: Mapped[date] = mapped_column(Date)
    result_query_start: Mapped[date] = mapped_column(Date)
    result_query_end: Mapped[date] = mapped_column(Date)
    announcement_start: Mapped[date] = mapped_column(Date)
    announcement_end: Mapped[date] = mapped_column(Date)
    settlement_start: Mapped[date] = mapped_column(Date)
    settlement_end: Mapped[date] = mapped_column(Date)
    quota: Mapped[int] = mapped_column(default=6000)

    PHASES = (
        ("application", "申报阶段"),
        ("result_query", "审核结果查询阶段"),
        ("announcement", "公示"),
        ("settlement", "落户办理"),
    )

    def phase_on(self, day: date) -> str | None:
        for code, _label in self.PHASES:
            if getattr(self, f"{code}_start") <= day <= getattr(self, f"{code}_end"):
                return code
        return None

    def __str__(self) -> str:
        return f"{self.year}年度"

    @classmethod
    def under_way(cls, today: date) -> int | None:
        """The year under way: the latest whose application phase has begun, else the latest set up."""
        return (db.session.scalar(select(func.max(cls.year)).where(cls.application_start <= today))
                or db.session.scalar(select(func.max(cls.year))))


class Employer(db.Model):
    """用人单位; its business district (业务办理区) owns its applicants' cases."""

    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)

    district: Mapped[District] = relationship()

    @validates("uscc")
    def _check_uscc(self, _key, value):
        value = (value or "").strip().upper()
        problem = uscc_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    def __str__(self) -> str:
        return self.name
