"""iCalendar (RFC 5545) output for a user's feed, written by hand: text escaping, 75-octet line folding, CRLF."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .models import Activity, ActivityKind, ActivityStatus

PRODID = "-//Fabrika//CRM//EN"


def escape_text(value: str) -> str:
    """TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma, and newlines as \\n."""
    value = (value or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (UTF-8), never splitting a character; continuation lines start with a space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = char, width, 74  # continuation lines lose one octet to the leading space
        else:
            current += char
            size += width
    parts.append(current)
    return "\r\n ".join(parts)


def utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _lines_for(activity: Activity, *, host: str, stamp: dt.datetime) -> list[str]:
    uid = f"activity-{activity.pk}@{host}"
    summary = activity.subject if not activity.counterparty_id else f"{activity.subject} ({activity.counterparty})"
    common = [
        f"UID:{uid}",
        f"DTSTAMP:{utc(stamp)}",
        f"LAST-MODIFIED:{utc(activity.updated_at)}",
        f"SUMMARY:{escape_text(summary)}",
    ]
    if activity.body:
        common.append(f"DESCRIPTION:{escape_text(activity.body)}")
    if activity.starts_at is not None:
        end = activity.ends_at or activity.starts_at + dt.timedelta(hours=1)
        status = {ActivityStatus.CANCELLED: "CANCELLED"}.get(activity.status, "CONFIRMED")
        return ["BEGIN:VEVENT", *common, f"DTSTART:{utc(activity.starts_at)}", f"DTEND:{utc(end)}", f"STATUS:{status}", "END:VEVENT"]
    priority = {"urgent": 1, "high": 3, "normal": 5, "low": 9}.get(activity.priority, 5)
    lines = ["BEGIN:VTODO", *common, f"DUE:{utc(activity.due_at)}", f"PRIORITY:{priority}"]
    if activity.status == ActivityStatus.DONE:
        lines += ["STATUS:COMPLETED", f"COMPLETED:{utc(activity.done_at or activity.updated_at)}"]
    elif activity.status == ActivityStatus.CANCELLED:
        lines.append("STATUS:CANCELLED")
    else:
        lines.append("STATUS:NEEDS-ACTION")
    return [*lines, "END:VTODO"]


def calendar(activities: Iterable[Activity], *, name: str, host: str, stamp: dt.datetime) -> str:
    """The VCALENDAR text: VEVENT for activities with a start (meetings), VTODO for tasks and calls with a due time."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", f"X-WR-CALNAME:{escape_text(name)}"]
    for activity in activities:
        if activity.starts_at is None and activity.due_at is None:
            continue
        if activity.kind in (ActivityKind.NOTE, ActivityKind.EMAIL) and activity.starts_at is None and activity.due_at is None:
            continue
        lines += _lines_for(activity, host=host, stamp=stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
