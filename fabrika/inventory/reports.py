"""Stock reports assembled for people: on hand at a date, turnover sheet, valuation, expiring lots and a serial
number's history. The figures come from `selectors` (which sum the ledger); this module adds the filters (including
product group and lot), names, totals rows and the XLSX export. Views and the API call `build` with the query
parameters and get the same `Report`, so the page, the JSON and the spreadsheet always agree.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font

from fabrika.catalog.models import Product
from fabrika.catalog.selectors import product_group_descendant_ids
from fabrika.core import audit
from fabrika.core.errors import ValidationError
from fabrika.core.models.audit import AuditAction

from . import selectors
from .models import Location, Lot, Warehouse
from .valuation import ZERO

FORMATS = {
    "quantity": "#,##0.####",
    "money": "#,##0.00",
    "unit_cost": "#,##0.00####",
    "date": "yyyy-mm-dd",
    "integer": "0",
}
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, quantity, money, unit_cost, date, integer

    @property
    def numeric(self) -> bool:
        return self.kind in ("quantity", "money", "unit_cost", "integer")


@dataclass
class Report:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict]
    totals: dict = field(default_factory=dict)
    filters: list[tuple[str, str]] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)

    def filter_text(self) -> str:
        return "; ".join(f"{label}: {value}" for label, value in self.filters)


REPORTS = {
    "on_hand": gettext_lazy("Stock on hand"),
    "turnover": gettext_lazy("Turnover sheet"),
    "valuation": gettext_lazy("Valuation"),
    "expiring": gettext_lazy("Expiring lots"),
    "serial": gettext_lazy("Serial number history"),
}


# ----------------------------------------------------------------------------------------------- parameters


class _Params:
    def __init__(self, params: Mapping[str, str]):
        self.params = params
        self.errors: dict[str, list[str]] = {}

    def text(self, name: str) -> str:
        return str(self.params.get(name) or "").strip()

    def date(self, name: str, default: dt.date | None) -> dt.date | None:
        raw = self.text(name)
        if not raw:
            return default
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            self.errors[name] = [_("Enter a date as YYYY-MM-DD")]
            return default

    def integer(self, name: str, *, default: int | None = None, minimum: int = 1, maximum: int = 10**9) -> int | None:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.errors[name] = [_("Enter a whole number")]
            return default
        if not minimum <= value <= maximum:
            self.errors[name] = [_("Must be between %(min)d and %(max)d") % {"min": minimum, "max": maximum}]
            return default
        return value

    def ensure(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _scope_filters(p: _Params) -> tuple[dict, list[tuple[str, str]], set[int] | None]:
    """Warehouse, location and product group filters: selector arguments, their description, the product ids."""
    arguments: dict = {}
    described: list[tuple[str, str]] = []
    warehouse_id = p.integer("warehouse")
    if warehouse_id is not None:
        warehouse = Warehouse.objects.filter(pk=warehouse_id).first()
        if warehouse is None:
            p.errors["warehouse"] = [_("No such warehouse")]
        else:
            arguments["warehouse_id"] = warehouse_id
            described.append((_("Warehouse"), str(warehouse)))
    location_id = p.integer("location")
    if location_id is not None:
        location = Location.objects.filter(pk=location_id).first()
        if location is None:
            p.errors["location"] = [_("No such location")]
        else:
            arguments["location_id"] = location_id
            described.append((_("Location"), str(location)))
    product_ids = None
    group_id = p.integer("group")
    if group_id is not None:
        from fabrika.catalog.models import ProductGroup

        group = ProductGroup.objects.filter(pk=group_id).first()
        if group is None:
            p.errors["group"] = [_("No such product group")]
        else:
            product_ids = set(Product.objects.filter(group_id__in=product_group_descendant_ids(group_id)).values_list("id", flat=True))
            described.append((_("Product group"), group.name))
    return arguments, described, product_ids


def _names(rows: list[dict]) -> None:
    """Add sku, product, unit, warehouse, location and lot names to rows that carry their ids."""
    products = selectors.products_by_id({row["product_id"] for row in rows})
    warehouses = {w.pk: str(w) for w in Warehouse.objects.filter(pk__in={row.get("warehouse_id") for row in rows if row.get("warehouse_id")})}
    locations = {loc.pk: str(loc) for loc in Location.objects.filter(pk__in={row.get("location_id") for row in rows if row.get("location_id")})}
    lots = {lot.pk: lot for lot in Lot.objects.filter(pk__in={row.get("lot_id") for row in rows if row.get("lot_id")})}
    for row in rows:
        product = products.get(row["product_id"])
        row["sku"] = product.sku if product else ""
        row["product"] = product.name if product else ""
        row["unit"] = product.stock_unit.code if product else ""
        if "warehouse_id" in row:
            row["warehouse"] = warehouses.get(row["warehouse_id"], "")
        if "location_id" in row and "location" not in row:
            row["location"] = locations.get(row["location_id"], "")
        if "lot_id" in row:
            lot = lots.get(row["lot_id"])
            row["lot"] = lot.code if lot else ""
            row.setdefault("expiry_date", lot.expiry_date if lot else None)


def _sum(rows: list[dict], keys: list[str]) -> dict:
    return {key: sum((row[key] for row in rows), ZERO) for key in keys}


# ----------------------------------------------------------------------------------------------- reports


def on_hand_report(p: _Params) -> Report:
    today = timezone.localdate()
    at = p.date("at", today)
    group_by = p.text("group_by") or "location"
    if group_by not in selectors.REPORT_GROUPINGS:
        p.errors["group_by"] = [_("Choose one of: %(choices)s") % {"choices": ", ".join(selectors.REPORT_GROUPINGS)}]
    arguments, described, product_ids = _scope_filters(p)
    lot_code = p.text("lot")
    p.ensure()
    if lot_code:
        group_by = "lot"
    rows = selectors.stock_on_hand(at=at, product_ids=product_ids, group_by=group_by, **arguments)
    if lot_code:
        lot_ids = set(Lot.objects.filter(code__iexact=lot_code).values_list("id", flat=True))
        rows = [row for row in rows if row["lot_id"] in lot_ids]
        described.append((_("Lot"), lot_code))
    _names(rows)
    columns = [Column("sku", _("SKU")), Column("product", _("Product")), Column("unit", _("Unit"))]
    if group_by != "product":
        columns.append(Column("warehouse", _("Warehouse")))
    if group_by in ("location", "lot"):
        columns.append(Column("location", _("Location")))
    if group_by == "lot":
        columns += [Column("lot", _("Lot")), Column("expiry_date", _("Expiry date"), "date")]
    columns += [Column("quantity", _("Quantity"), "quantity"), Column("value", _("Value"), "money")]
    return Report(
        "on_hand", str(REPORTS["on_hand"]), columns, rows, _sum(rows, ["quantity", "value"]),
        [(_("At the end of"), at.isoformat()), *described], {"at": at, "group_by": group_by},
    )


def turnover_report(p: _Params) -> Report:
    today = timezone.localdate()
    date_from = p.date("date_from", today.replace(day=1))
    date_to = p.date("date_to", today)
    arguments, described, product_ids = _scope_filters(p)
    if date_from and date_to and date_to < date_from:
        p.errors["date_to"] = [_("Must be on or after the start of the period")]
    p.ensure()
    rows = selectors.turnover(date_from=date_from, date_to=date_to, product_ids=product_ids, **arguments)
    _names(rows)
    measures = [f"{part}_{measure}" for part in ("opening", "in", "out", "closing") for measure in ("quantity", "value")]
    labels = {
        "opening_quantity": _("Opening quantity"), "opening_value": _("Opening value"),
        "in_quantity": _("In, quantity"), "in_value": _("In, value"),
        "out_quantity": _("Out, quantity"), "out_value": _("Out, value"),
        "closing_quantity": _("Closing quantity"), "closing_value": _("Closing value"),
    }
    columns = [Column("sku", _("SKU")), Column("product", _("Product")), Column("unit", _("Unit"))] + [
        Column(key, labels[key], "quantity" if key.endswith("quantity") else "money") for key in measures
    ]
    return Report(
        "turnover", str(REPORTS["turnover"]), columns, rows, _sum(rows, measures),
        [(_("Period"), f"{date_from.isoformat()} – {date_to.isoformat()}"), *described],
        {"date_from": date_from, "date_to": date_to},
    )


def valuation_report(p: _Params) -> Report:
    at = p.date("at", timezone.localdate())
    arguments, described, product_ids = _scope_filters(p)
    if "location_id" in arguments:
        p.errors["location"] = [_("The valuation report is per warehouse: choose a warehouse instead")]
    p.ensure()
    result = selectors.valuation_report(at=at, warehouse_id=arguments.get("warehouse_id"))
    rows = [row for row in result["items"] if product_ids is None or row["product_id"] in product_ids]
    _names(rows)
    columns = [
        Column("sku", _("SKU")), Column("product", _("Product")), Column("unit", _("Unit")), Column("method", _("Method")),
        Column("quantity", _("Quantity"), "quantity"), Column("unit_cost", _("Unit cost"), "unit_cost"),
        Column("value", _("Value"), "money"),
    ]
    return Report(
        "valuation", str(REPORTS["valuation"]), columns, rows, _sum(rows, ["quantity", "value"]),
        [(_("At the end of"), at.isoformat()), *described], {"at": at},
    )


def expiring_report(p: _Params) -> Report:
    on = p.date("on", timezone.localdate())
    within_days = p.integer("within_days", default=30, minimum=0, maximum=3650)
    arguments, described, product_ids = _scope_filters(p)
    p.ensure()
    rows = selectors.expiring_lots(within_days=within_days, on=on, warehouse_id=arguments.get("warehouse_id"))
    if product_ids is not None:
        rows = [row for row in rows if row["product_id"] in product_ids]
    if "location_id" in arguments:
        subtree = selectors.location_subtree_ids(arguments["location_id"])
        rows = [row for row in rows if row["location_id"] in subtree]
    _names(rows)
    columns = [
        Column("sku", _("SKU")), Column("product", _("Product")), Column("lot", _("Lot")),
        Column("expiry_date", _("Expiry date"), "date"), Column("days_left", _("Days left"), "integer"),
        Column("location", _("Location")), Column("quantity", _("Quantity"), "quantity"),
        Column("reserved_quantity", _("Reserved"), "quantity"), Column("value", _("Value"), "money"),
    ]
    return Report(
        "expiring", str(REPORTS["expiring"]), columns, rows, _sum(rows, ["quantity", "reserved_quantity", "value"]),
        [(_("On"), on.isoformat()), (_("Within days"), str(within_days)), *described], {"on": on, "within_days": within_days},
    )


def serial_report(p: _Params) -> Report:
    sku, serial = p.text("sku"), p.text("serial")
    if not serial:
        p.errors["serial"] = [_("Enter a serial number")]
    p.ensure()
    found = Product.objects.filter(serials__serial=serial).distinct()
    if sku:
        found = found.filter(sku=sku)
    products = list(found[:2])
    if not products:
        raise ValidationError({"serial": [_("Serial number %(serial)s not found") % {"serial": serial}]})
    if len(products) > 1:
        raise ValidationError({"sku": [_("Several products have this serial number: enter the SKU")]})
    history = selectors.serial_history(product_id=products[0].pk, serial=serial) or {"history": []}
    rows = [
        {**move, "document_type": move["document_type"], "reversal": _("yes") if move["is_reversal"] else ""}
        for move in history["history"]
    ]
    columns = [
        Column("date", _("Date"), "date"), Column("document_type", _("Document")), Column("document_number", _("Number")),
        Column("from_location", _("From")), Column("to_location", _("To")), Column("reversal", _("Reversal")),
    ]
    described = [
        (_("Serial number"), serial), (_("SKU"), products[0].sku), (_("Now at"), history.get("location", "")),
        (_("In stock"), _("yes") if history.get("in_stock") else _("no")),
    ]
    return Report("serial", str(REPORTS["serial"]), columns, rows, {}, described, {"serial": serial, "sku": products[0].sku, **{
        key: history.get(key) for key in ("location", "in_stock", "reserved_for")
    }})


BUILDERS = {
    "on_hand": on_hand_report, "turnover": turnover_report, "valuation": valuation_report,
    "expiring": expiring_report, "serial": serial_report,
}


def build(key: str, params: Mapping[str, str]) -> Report:
    """The report `key` for these query parameters; ValidationError naming each bad parameter."""
    if key not in BUILDERS:
        raise ValidationError({"report": [_("Choose one of: %(choices)s") % {"choices": ", ".join(BUILDERS)}]})
    return BUILDERS[key](_Params(params))


# ----------------------------------------------------------------------------------------------- export


def report_xlsx(report: Report) -> bytes:
    """Row 1: the title; row 2: the filters; row 3: the header; then the rows and a totals row. Numbers and dates
    are stored as numbers and dates with a display format, never as text."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = report.title[:31]
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([report.filter_text()])
    sheet.append([column.label for column in report.columns])
    for cell in sheet[3]:
        cell.font = Font(bold=True)

    def append(values: dict, *, bold: bool = False) -> None:
        sheet.append([_cell(values.get(column.key), column) for column in report.columns])
        row = sheet.max_row
        for index, column in enumerate(report.columns, start=1):
            cell = sheet.cell(row=row, column=index)
            if column.kind in FORMATS and cell.value not in (None, ""):
                cell.number_format = FORMATS[column.kind]
            elif isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula
            if bold:
                cell.font = Font(bold=True)

    for row in report.rows:
        append(row)
    if report.totals:
        first_text = report.columns[0].key
        append({**report.totals, first_text: _("Total")}, bold=True)
    for index, column in enumerate(report.columns, start=1):
        sheet.column_dimensions[sheet.cell(row=3, column=index).column_letter].width = 14 if column.numeric else 24
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(value, column: Column):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, dt.date | int):
        return value
    return str(value)


def report_export(*, report: Report, actor) -> bytes:
    """The report as XLSX; written to the audit log as an export."""
    body = report_xlsx(report)
    audit.record(
        actor=actor, action=AuditAction.EXPORT,
        changes={"report": f"inventory.{report.key}", "format": "xlsx", "rows": len(report.rows), "filters": dict(report.filters)},
        message=f"inventory.{report.key}: {len(report.rows)} rows to XLSX",
    )
    return body


def filename(report: Report) -> str:
    return f"stock-{report.key.replace('_', '-')}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
