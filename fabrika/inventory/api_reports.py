"""Stock reports as JSON (GET /api/v1/inventory/stock-reports/{key}) or, with ?format=xlsx, as a spreadsheet (audited).
Keys: on_hand, turnover, valuation, expiring, serial; filters as query parameters (see docs/user-guide/stock-reports.md).
Decimals are strings in JSON."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from fabrika.core.errors import ValidationError
from fabrika.core.permissions import require

from . import reports
from .models import StockMove

router = Router(tags=["inventory reports"])


def _plain(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@router.get("/stock-reports/{key}")
def report(request, key: str, format: str = "json"):
    require(request.user, StockMove, "view")
    if format not in ("json", "xlsx"):
        raise ValidationError({"format": ["Choose json or xlsx"]})
    built = reports.build(key, request.GET)
    if format == "xlsx":
        response = HttpResponse(reports.report_export(report=built, actor=request.user), content_type=reports.XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{reports.filename(built)}"'
        return response
    keys = [column.key for column in built.columns]
    extra = ("product_id", "warehouse_id", "location_id", "lot_id")
    return {
        "report": built.key,
        "title": built.title,
        "filters": [{"label": label, "value": value} for label, value in built.filters],
        "parameters": {name: _plain(value) for name, value in built.parameters.items()},
        "columns": [{"key": column.key, "label": column.label, "kind": column.kind} for column in built.columns],
        "rows": [{name: _plain(row.get(name)) for name in (*keys, *(e for e in extra if e in row))} for row in built.rows],
        "totals": {name: _plain(value) for name, value in built.totals.items()},
    }
