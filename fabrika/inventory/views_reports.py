"""Stock report pages: an index and one page per report with its filters, a totals row and an XLSX export
(?format=xlsx, audited). The figures come from `reports.build`, the same as the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from fabrika.catalog.models import ProductGroup
from fabrika.core.errors import ValidationError
from fabrika.core.permissions import can

from . import reports, selectors
from .models import StockMove

FILTERS = {
    "on_hand": ("at", "warehouse", "location", "group", "lot", "group_by"),
    "turnover": ("date_from", "date_to", "warehouse", "location", "group"),
    "valuation": ("at", "warehouse", "group"),
    "expiring": ("on", "within_days", "warehouse", "location", "group"),
    "serial": ("serial", "sku"),
}


def _require(request: HttpRequest) -> None:
    if not can(request.user, StockMove, "view"):
        raise DjangoPermissionDenied


@login_required
def report_index(request: HttpRequest) -> HttpResponse:
    _require(request)
    return render(request, "inventory/reports/index.html", {"reports": list(reports.REPORTS.items())})


@login_required
def report_page(request: HttpRequest, key: str) -> HttpResponse:
    _require(request)
    if key not in reports.REPORTS:
        raise Http404
    errors: dict[str, list[str]] = {}
    report = None
    asked = bool(request.GET) or key != "serial"
    if asked:
        try:
            report = reports.build(key, request.GET)
        except ValidationError as error:
            errors = error.errors
    if report is not None and request.GET.get("format") == "xlsx":
        response = HttpResponse(reports.report_export(report=report, actor=request.user), content_type=reports.XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{reports.filename(report)}"'
        return response
    query = request.GET.copy()
    query["format"] = "xlsx"
    rows = [
        [{"value": row.get(column.key), "kind": column.kind} for column in report.columns] for row in report.rows
    ] if report else []
    totals = [{"value": report.totals.get(column.key), "kind": column.kind} for column in report.columns] if report and report.totals else []
    context = {
        "key": key,
        "title": reports.REPORTS[key],
        "report": report,
        "rows": rows,
        "totals": totals,
        "errors": errors,
        "filters": FILTERS[key],
        "values": request.GET,
        "warehouses": selectors.warehouse_list(),
        "locations": selectors.location_list(include_virtual=False),
        "groups": ProductGroup.objects.order_by("name"),
        "groupings": selectors.REPORT_GROUPINGS,
        "export_query": query.urlencode(),
    }
    template = "inventory/reports/_results.html" if request.htmx and request.htmx.target == "report-results" else "inventory/reports/report.html"
    return render(request, template, context, status=422 if errors else 200)
