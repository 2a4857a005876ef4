"""Settings of the alarms on the application's audit trail: `hipaa-aws:audit` (optional; every key has
a default). Validated with the rest of the settings (settings.py), before anything is created.

The alarms themselves (components/application/audit_alarms.py) read the events the application writes
under the contract in docs/audit-event.schema.json.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Whole hours only: the off-hours metric filter matches the hour of the event's UTC time
# (`...T14:...Z`), so a window edge at a half hour (UTC+05:30) cannot be expressed by it.
UTC_OFFSET = r"^[+-](0\d|1[0-4]):00$"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class BusinessHours(_Strict):
    """The hours in which PHI access is expected; access in any other hour raises an alarm.

    `start` and `end` are local hours (0-24, end exclusive) at the fixed `utcOffset`. A fixed offset
    does not follow daylight saving time: the window moves by an hour in summer unless the offset is
    changed then. Every day counts: a filter pattern cannot tell a weekday from the date.
    """

    start: int = Field(7, ge=0, le=23)
    end: int = Field(19, ge=1, le=24)
    utc_offset: str = Field("+00:00", alias="utcOffset")

    @field_validator("utc_offset")
    @classmethod
    def _whole_hours(cls, value: str) -> str:
        if not re.fullmatch(UTC_OFFSET, value):
            raise ValueError("must be a whole-hour UTC offset from -14:00 to +14:00, such as -05:00: the "
                             "alarm's filter pattern matches the hour of the event's UTC time")
        return value

    @model_validator(mode="after")
    def _a_window(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError(f"businessHours end ({self.end}) must be after start ({self.start}), "
                             f"within one day")
        return self

    @property
    def offset_hours(self) -> int:
        sign = -1 if self.utc_offset.startswith("-") else 1
        return sign * int(self.utc_offset[1:3])

    def off_hours_utc(self) -> tuple[int, ...]:
        """The UTC hours (0-23) outside the business window, sorted."""
        business = {(hour - self.offset_hours) % 24 for hour in range(self.start, self.end)}
        return tuple(hour for hour in range(24) if hour not in business)


class AuditSettings(_Strict):
    """Thresholds of the alarms on the application's audit events."""

    bulk_read_records: int = Field(500, alias="bulkReadRecords", ge=1, le=10_000_000)
    """Patient records one actor may read or export in one window before the bulk-export alarm."""
    bulk_read_window_minutes: int = Field(5, alias="bulkReadWindowMinutes", ge=1, le=60)
    """The window (the alarm's period) over which one actor's records are summed."""
    business_hours: BusinessHours = Field(default_factory=lambda: BusinessHours.model_validate({}),
                                          alias="businessHours")
    failed_sign_ins_band_width: float = Field(3, alias="failedSignInsBandWidth", ge=1, le=10)
    """Standard deviations above the learned baseline of failed sign-ins before the alarm."""
    off_hours_accesses: int = Field(1, alias="offHoursAccesses", ge=1, le=100_000)
    """PHI accesses outside business hours within 5 minutes that raise the off-hours alarm."""
