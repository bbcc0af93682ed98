"""Forms of shipments and returns: a header (date, reminder or reason, notes) and one row of inputs per line.

Rows are plain fields named `<prefix>-<index>-<name>`; the view turns them into the services' `lines` and puts the
services' errors (`lines.<index>.<name>`) back beside the right input."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from fabrika.catalog.enums import Tracking
from fabrika.inventory.models import Lot


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}"


def row_field(index: int, name: str) -> str:
    return f"row-{index}-{name}"


class DocumentLinesForm(forms.Form):
    """`rows`: [{"order_line": SalesOrderLine, "quantity": Decimal, "lot": Lot|None, "serial": str, "limit": Decimal}].

    With `tracking=True` each row also has a lot choice (lot-tracked products) or a serial number (serial-tracked)."""

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, rows: list[dict], tracking: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for index, row in enumerate(rows):
            line = row["order_line"]
            label = f"{line.position}. {line.product.sku} {line.product.name}"
            self.fields[row_field(index, "quantity")] = forms.DecimalField(
                label=label, required=False, min_value=Decimal(0), max_digits=15, decimal_places=4,
                initial=_plain(row["quantity"]), widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
                help_text=_("at most %(limit)s %(unit)s") % {"limit": f"{row['limit'].normalize():f}", "unit": line.unit.code},
            )
            if tracking and line.product.tracking == Tracking.LOT:
                lots = Lot.objects.filter(product_id=line.product_id).order_by("expiry_date", "code")
                self.fields[row_field(index, "lot")] = forms.ModelChoiceField(
                    label=_("Lot"), queryset=lots, required=False, initial=row.get("lot"),
                )
            if tracking and line.product.tracking == Tracking.SERIAL:
                self.fields[row_field(index, "serial")] = forms.CharField(label=_("Serial number"), max_length=100, required=False, initial=row.get("serial", ""))
        self._label_inputs()

    def _label_inputs(self) -> None:
        """The row inputs sit in a table without visible labels: screen readers get the label as aria-label."""
        for name, field in self.fields.items():
            if name.startswith("row-"):
                field.widget.attrs["aria-label"] = str(field.label)

    def row_items(self) -> list[dict]:
        """Per row: its order line and bound fields, for the template."""
        items = []
        for index, row in enumerate(self.rows):
            tracking = next((self[row_field(index, name)] for name in ("lot", "serial") if row_field(index, name) in self.fields), None)
            items.append({"row": row, "quantity": self[row_field(index, "quantity")], "tracking": tracking})
        return items

    def header_fields(self) -> list:
        return [self[name] for name in self.fields if not name.startswith("row-")]

    def service_lines(self) -> list[dict]:
        """The rows with a quantity, as the services take them; `index_of` maps each back to its row."""
        lines, self.index_of = [], []
        for index, row in enumerate(self.rows):
            quantity = self.cleaned_data.get(row_field(index, "quantity"))
            if not quantity:
                continue
            line = {"order_line": row["order_line"].pk, "quantity": f"{quantity.normalize():f}"}
            if row_field(index, "lot") in self.fields:
                lot = self.cleaned_data.get(row_field(index, "lot"))
                line["lot"] = lot.pk if lot else None
            if row_field(index, "serial") in self.fields:
                line["serial"] = self.cleaned_data.get(row_field(index, "serial")) or ""
            lines.append(line)
            self.index_of.append(index)
        return lines

    def apply_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Service errors beside the inputs: `lines.<n>.<field>` is the n-th line sent, i.e. row `index_of[n]`."""
        index_of = getattr(self, "index_of", [])
        for key, messages in errors.items():
            target = None
            if key.startswith("lines."):
                parts = key.split(".")
                if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(index_of):
                    name = {"order_line": "quantity"}.get(parts[2], parts[2])
                    candidate = row_field(index_of[int(parts[1])], name)
                    target = candidate if candidate in self.fields else row_field(index_of[int(parts[1])], "quantity")
            elif key in self.fields:
                target = key
            for message in messages:
                self.add_error(target, message)


class ShipmentForm(DocumentLinesForm):
    remind_after_months = forms.IntegerField(
        label=_("Remind after, months"), required=False, min_value=1, max_value=120,
        help_text=_("Sets a “Maintenance due” reminder on the client that many months after the shipment date"),
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=10000)


class ReturnForm(DocumentLinesForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)


class CancelForm(forms.Form):
    date = forms.DateField(label=_("Cancellation date"), required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text=_("Empty: today"))
