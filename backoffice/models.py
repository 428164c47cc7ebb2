"""Imports every module's models so the metadata is complete (Alembic, tests)."""
from backoffice.announcement import models as _announcement  # noqa: F401
from backoffice.applications import models as _applications  # noqa: F401
from backoffice.audit import models as _audit  # noqa: F401
from backoffice.calendar import models as _calendar  # noqa: F401
from backoffice.cases import models as _cases  # noqa: F401
from backoffice.intake import models as _intake  # noqa: F401
from backoffice.notices import models as _notices  # noqa: F401
from backoffice.core.db import Base
from backoffice.eligibility import models as _eligibility  # noqa: F401
from backoffice.feed import models as _feed  # noqa: F401
from backoffice.outbox import models as _outbox  # noqa: F401
from backoffice.reference import models as _reference  # noqa: F401
from backoffice.settlement import models as _settlement  # noqa: F401
from backoffice.staff import models as _staff  # noqa: F401
from backoffice.turnaround import models as _turnaround  # noqa: F401
from backoffice.yearstats import models as _yearstats  # noqa: F401

metadata = Base.metadata
