"""The local registry dataset: its CSV files, their columns, and parsing them.

``backoffice registry load DIR`` reads the files below from DIR (each optional, UTF-8,
a header line naming the columns, in any order). Every value is checked; a bad one is
reported with file, line and column and nothing is loaded. Each row has a natural key, so
loading a file again replaces rows instead of adding them.

=====================  ========================================================================
file                   columns (``*`` required)
=====================  ========================================================================
social_insurance.csv   id_number*, insurance_type* (pension|medical|unemployment|injury|maternity),
                       from* (YYYY-MM), to* (YYYY-MM), back_paid (months of this range that were
                       back-paid, ``;``-separated YYYY-MM), district* (缴费区: 朝阳区 …, 市本级),
                       employer_uscc (参保单位), status (缴费状态: 正常 when empty)
real_estate.csv        certificate_no*, owner_id* (身份证号, or 统一社会信用代码 for a unit),
                       owner_name*, district*, use* (住宅|非住宅), registered* (登簿日期/填发日期,
                       YYYY-MM or YYYY-MM-DD), expires (权证失效日期, empty while in force)
rental.csv             lease_no*, tenant_id_number*, district*, use* (住宅|非住宅), has_title*
                       (是|否), needs_verification* (是|否), start* (合同开始日期), end* (合同结束日期)
education.csv          record* (diploma 学历|degree 学位), certificate_no*, id_number*, name*,
                       sex* (男|女), birth_date*, level* (junior_college|bachelor|master|doctor),
                       date (毕业日期 / 获学位日期 as recorded, kept verbatim: the registry may hold
                       a year alone, which is the handbook's "不是‘年月’或‘年月日’格式")
tax.csv                id_number*, year*, amount* (yuan of individual income tax paid in Beijing)
tax_violations.csv     decision_no*, id_number*, decided_on* (a fine of 50 yuan or more)
persons.csv            id_number*, name*, sex*, birth_date*  (公安人口信息)
detentions.csv         decision_no*, id_number*, decided_on*  (行政拘留)
marriages.csv          id_number*, spouse_id_number*, spouse_name*, from* (登记日期), to (离婚日期)
residence_permits.csv  permit_no*, id_number*, applied_on* (申领日期), status* (有效|注销|过期)
                       (北京市公安局核发的《北京市居住证》; 第一篇 一)
criminal_records.csv   id_number*, source* (judgment 人民法院生效的法律文书 | police_certificate
                       户籍地公安机关出具的证明), document_no*, decided_on*, summary (第一篇 四)
tax_registrations.csv  uscc*, name*, status* (正常|注销|非正常), registered_on (在京税务登记;
                       第二篇 一)
=====================  ========================================================================

Pure: no Flask or SQLAlchemy.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from verifiers.identifiers import resident_id_problem, uscc_problem

INSURANCE_TYPES = ("pension", "medical", "unemployment", "injury", "maternity")
INSURANCE_STATUSES = ("正常", "暂停缴费", "中断", "终止")
PERMIT_STATUSES = ("有效", "注销", "过期")
TAX_STATUSES = ("正常", "注销", "非正常")
LEVELS = ("junior_college", "bachelor", "master", "doctor")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YES = {"是": True, "否": False, "true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
_SEX = {"男": "M", "女": "F", "M": "M", "F": "F"}


class DatasetError(ValueError):
    def __init__(self, file: str, line: int, column: str, message: str):
        self.file, self.line, self.column, self.message = file, line, column, message
        super().__init__(f"{file}:{line}: {column}: {message}")


def _id_number(v: str) -> str:
    v = v.strip().upper()
    problem = resident_id_problem(v)
    if problem:
        raise ValueError(problem)
    return v


def _owner_id(v: str) -> str:
    v = v.strip().upper()
    if resident_id_problem(v) and uscc_problem(v):
        raise ValueError("应为身份证号或统一社会信用代码 / expected an ID number or a unified social credit code")
    return v


def _uscc(v: str) -> str:
    v = v.strip().upper()
    problem = uscc_problem(v)
    if problem:
        raise ValueError(problem)
    return v


def _month(v: str) -> str:
    v = v.strip()
    if not _MONTH.match(v):
        raise ValueError(f"{v!r} is not a month (YYYY-MM)")
    return v


def _date(v: str) -> str:
    try:
        return date.fromisoformat(v.strip()).isoformat()
    except ValueError:
        raise ValueError(f"{v!r} is not a date (YYYY-MM-DD)") from None


def _date_or_month(v: str) -> str:
    """A month; a full date is cut to its month (the handbook shows 登簿日期 as 2014-08)."""
    v = v.strip()
    if _MONTH.match(v):
        return v
    return _date(v)[:7]


def _months(v: str) -> list[str]:
    return [_month(p) for p in v.split(";") if p.strip()]


def _int(v: str) -> int:
    try:
        n = int(v.strip())
    except ValueError:
        raise ValueError(f"{v!r} is not a whole number") from None
    if n < 0:
        raise ValueError("must not be negative")
    return n


def _yes(v: str) -> bool:
    try:
        return _YES[v.strip().lower()]
    except KeyError:
        raise ValueError(f"{v!r}: expected 是 or 否") from None


def _sex(v: str) -> str:
    try:
        return _SEX[v.strip().upper() if v.strip() in ("m", "f") else v.strip()]
    except KeyError:
        raise ValueError(f"{v!r}: expected 男 or 女") from None


def _choice(*allowed: str):
    def check(v: str) -> str:
        v = v.strip()
        if v not in allowed:
            raise ValueError(f"{v!r}: expected one of {', '.join(allowed)}")
        return v
    return check


def _text(v: str) -> str:
    v = v.strip()
    if len(v) > 200:
        raise ValueError("longer than 200 characters")
    return v


def _raw(v: str) -> str:
    return v.strip()[:40]


@dataclass(frozen=True)
class Column:
    name: str
    parse: object
    required: bool = True


@dataclass(frozen=True)
class FileSpec:
    registry: str  # RegistryRecord.registry
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # columns whose values make the natural key
    person: str | None  # the column holding the person's ID number

    @property
    def filename(self) -> str:
        return f"{self.registry}.csv"


FILES: dict[str, FileSpec] = {spec.registry: spec for spec in (
    FileSpec("social_insurance", (
        Column("id_number", _id_number), Column("insurance_type", _choice(*INSURANCE_TYPES)),
        Column("from", _month), Column("to", _month), Column("back_paid", _months, False),
        Column("district", _text), Column("employer_uscc", _text, False),
        Column("status", _choice(*INSURANCE_STATUSES), False),
    ), key=("id_number", "insurance_type", "from"), person="id_number"),
    FileSpec("real_estate", (
        Column("certificate_no", _text), Column("owner_id", _owner_id), Column("owner_name", _text),
        Column("district", _text), Column("use", _choice("住宅", "非住宅")),
        Column("registered", _date_or_month), Column("expires", _date_or_month, False),
    ), key=("certificate_no",), person="owner_id"),
    FileSpec("rental", (
        Column("lease_no", _text), Column("tenant_id_number", _id_number), Column("district", _text),
        Column("use", _choice("住宅", "非住宅")), Column("has_title", _yes), Column("needs_verification", _yes),
        Column("start", _date), Column("end", _date),
    ), key=("lease_no",), person="tenant_id_number"),
    FileSpec("education", (
        Column("record", _choice("diploma", "degree")), Column("certificate_no", _text),
        Column("id_number", _id_number), Column("name", _text), Column("sex", _sex), Column("birth_date", _date),
        Column("level", _choice(*LEVELS)), Column("date", _raw, False),
    ), key=("record", "certificate_no"), person="id_number"),
    FileSpec("tax", (
        Column("id_number", _id_number), Column("year", _int), Column("amount", _int),
    ), key=("id_number", "year"), person="id_number"),
    FileSpec("tax_violations", (
        Column("decision_no", _text), Column("id_number", _id_number), Column("decided_on", _date),
    ), key=("decision_no",), person="id_number"),
    FileSpec("persons", (
        Column("id_number", _id_number), Column("name", _text), Column("sex", _sex), Column("birth_date", _date),
    ), key=("id_number",), person="id_number"),
    FileSpec("detentions", (
        Column("decision_no", _text), Column("id_number", _id_number), Column("decided_on", _date),
    ), key=("decision_no",), person="id_number"),
    FileSpec("marriages", (
        Column("id_number", _id_number), Column("spouse_id_number", _id_number), Column("spouse_name", _text),
        Column("from", _date), Column("to", _date, False),
    ), key=("id_number", "spouse_id_number", "from"), person="id_number"),
    FileSpec("residence_permits", (
        Column("permit_no", _text), Column("id_number", _id_number), Column("applied_on", _date),
        Column("status", _choice(*PERMIT_STATUSES)),
    ), key=("permit_no",), person="id_number"),
    FileSpec("criminal_records", (
        Column("id_number", _id_number), Column("source", _choice("judgment", "police_certificate")),
        Column("document_no", _text), Column("decided_on", _date), Column("summary", _text, False),
    ), key=("document_no",), person="id_number"),
    FileSpec("tax_registrations", (
        Column("uscc", _uscc), Column("name", _text), Column("status", _choice(*TAX_STATUSES)),
        Column("registered_on", _date, False),
    ), key=("uscc",), person=None),
)}


@dataclass(frozen=True)
class Row:
    registry: str
    record_key: str
    id_number: str | None
    data: dict


def parse_file(registry: str, text: str) -> list[Row]:
    """Parse one CSV file of the dataset; raises DatasetError naming file, line and column."""
    spec = FILES[registry]
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    known = {c.name for c in spec.columns}
    for name in header:
        if name not in known:
            raise DatasetError(spec.filename, 1, name, "unknown column; expected " + ", ".join(sorted(known)))
    for c in spec.columns:
        if c.required and c.name not in header:
            raise DatasetError(spec.filename, 1, c.name, "required column is missing")
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        data: dict = {}
        for c in spec.columns:
            value = raw.get(c.name)
            if value is None or value.strip() == "":
                if c.required:
                    raise DatasetError(spec.filename, line, c.name, "required value is missing")
                data[c.name] = [] if c.parse is _months else None
                continue
            try:
                data[c.name] = c.parse(value)
            except ValueError as exc:
                raise DatasetError(spec.filename, line, c.name, str(exc)) from None
        key = "|".join(str(data[k]) for k in spec.key)
        if key in seen:
            raise DatasetError(spec.filename, line, ",".join(spec.key), f"duplicate of line {seen[key]}")
        seen[key] = line
        person = data.get(spec.person) if spec.person else None
        rows.append(Row(registry, key, person if person and not resident_id_problem(person) else None, data))
    return rows
