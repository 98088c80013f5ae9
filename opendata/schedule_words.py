"""Cron schedules in words, in the job's time zone: "daily at 06:00 America/Chicago".

The common shapes get a short phrase of our own (daily, weekdays, weekends, a day of the week, a day of
the month, every hour at :15, every N minutes or hours); anything else is described by cron-descriptor
(24-hour clock) with the time zone after it. An expression that is not valid cron comes back as it is,
so a page never hides what the job file says.
"""

from __future__ import annotations

import re

from cron_descriptor import ExpressionDescriptor, FormatException, Options
from croniter import croniter

MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
          "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
DAY_NAMES = {name[:3].lower(): i for i, name in enumerate(DAYS)}
_NUMBER = re.compile(r"\d{1,2}")


def _day(text: str) -> int | None:
    text = text.lower()
    if text in DAY_NAMES:
        return DAY_NAMES[text]
    if _NUMBER.fullmatch(text) and int(text) <= 7:
        return int(text) % 7
    return None


def _days(field: str) -> set[int] | None:
    """The days of the week a day-of-week field names (lists and ranges), or None when it is more."""
    found: set[int] = set()
    for part in field.split(","):
        ends = part.split("-")
        if len(ends) == 1 and (day := _day(ends[0])) is not None:
            found.add(day)
        elif len(ends) == 2 and (first := _day(ends[0])) is not None and (last := _day(ends[1])) is not None:
            if ends[1] == "7":
                last = 7
            if first > last:
                return None
            found.update(d % 7 for d in range(first, last + 1))
        else:
            return None
    return found


def _time(hour: str, minute: str) -> str | None:
    if _NUMBER.fullmatch(hour) and _NUMBER.fullmatch(minute) and int(hour) < 24 and int(minute) < 60:
        return f"{int(hour):02d}:{int(minute):02d}"
    return None


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _ours(fields: list[str], zone: str) -> str | None:
    """A phrase for the common shapes, or None."""
    minute, hour, dom, month, dow = fields
    if month != "*":
        return None
    at = _time(hour, minute)
    hours = hour.split(",")
    if at is None and 1 < len(hours) <= 6 and all(_time(h, minute) for h in hours):
        times = [t for t in (_time(h, minute) for h in hours) if t]
        at = ", ".join(times[:-1]) + " and " + times[-1]
    if at is not None and dom == "*":
        days = _days(dow) if dow != "*" else set(range(7))
        if days is None:
            return None
        if days == set(range(7)):
            return f"daily at {at} {zone}"
        if days == {1, 2, 3, 4, 5}:
            return f"weekdays at {at} {zone}"
        if days == {0, 6}:
            return f"weekends at {at} {zone}"
        names = [DAYS[d] for d in sorted(days, key=lambda d: (d + 6) % 7)]  # Monday first
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"every {listed} at {at} {zone}"
    if at is not None and "," not in hour and dow == "*" and _NUMBER.fullmatch(dom) and 1 <= int(dom) <= 31:
        return f"monthly on the {_ordinal(int(dom))} at {at} {zone}"
    span = re.fullmatch(r"(\d{1,2})-(\d{1,2})", hour)
    if span and dom == "*" and _time(span[1], minute) and _time(span[2], minute) and int(span[1]) < int(span[2]):
        days = _days(dow) if dow != "*" else set(range(7))
        when = {frozenset(range(7)): "daily", frozenset({1, 2, 3, 4, 5}): "weekdays",
                frozenset({0, 6}): "weekends"}.get(frozenset(days or ()))
        if when is not None:
            return (f"every hour at :{int(minute):02d} from {_time(span[1], minute)} to {_time(span[2], minute)}, "
                    f"{when} ({zone})")
    if dom != "*" or dow != "*":
        return None
    if hour == "*" and _NUMBER.fullmatch(minute) and int(minute) < 60:
        return f"every hour at :{int(minute):02d}"
    step = re.fullmatch(r"(\*|0)/(\d{1,2})", minute)
    if step and hour == "*" and 0 < int(step[2]) < 60:
        return f"every {int(step[2])} minutes"
    step = re.fullmatch(r"\*/(\d{1,2})", hour)
    if step and _NUMBER.fullmatch(minute) and int(minute) < 60 and 0 < int(step[1]) < 24:
        return f"every {int(step[1])} hours at :{int(minute):02d} (from 00:{int(minute):02d} {zone})"
    return None


def schedule_in_words(cron: str | None, timezone: str = "UTC") -> str:
    """``cron`` (five fields, or a macro such as ``@daily``) in words, in ``timezone``; "" without one."""
    if not cron or not cron.strip():
        return ""
    expression = MACROS.get(cron.strip().lower(), cron.strip())
    fields = expression.split()
    if len(fields) != 5 or not croniter.is_valid(expression):
        return cron
    phrase = _ours(fields, timezone)
    if phrase is not None:
        return phrase
    options = Options()
    options.use_24hour_time_format = True
    options.verbose = False
    try:
        described = ExpressionDescriptor(expression, options).get_description()
    except (FormatException, ValueError, IndexError, KeyError):
        return cron
    if not described or "error" in described.lower():
        return cron
    return f"{described[0].lower()}{described[1:]} ({timezone})"
