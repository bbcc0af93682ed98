"""form_fields, initial_from_custom, custom_from_form, display_value, export_value and import_value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django import forms
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from fabrika.core.custom_fields import (
    StoredFile,
    card_rows,
    clean_custom_values,
    custom_from_form,
    display_value,
    export_value,
    form_field_name,
    form_fields,
    import_value,
    initial_from_custom,
    link_labels,
)
from fabrika.core.models import Department

ENTITY = "parties.counterparty"
COLOURS = [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}, {"value": "green", "label": "Green"}]


def custom_form(data=None, files=None, initial=None) -> forms.Form:
    form = forms.Form(data, files, initial=initial)
    form.fields.update(form_fields(ENTITY))
    return form


def test_form_fields_have_the_right_kinds_labels_and_widgets(make_field):
    department = Department.objects.create(name="Workshop")
    make_field("region", "text", required=True, help_text="Sales region")
    make_field("notes2", "long_text")
    make_field("staff", "integer")
    make_field("limit", "decimal", decimal_places=2)
    make_field("since", "date")
    make_field("visit", "datetime")
    make_field("vip", "boolean", required=True, default=True)
    make_field("colour", "choice", choices=COLOURS)
    make_field("tags", "multichoice", choices=COLOURS)
    make_field("drawing", "file", required=True)
    make_field("office", "link", target_entity="core.department")
    make_field("pipeline_only", "text", context="pipeline:1")
    fields = form_fields(ENTITY)
    assert list(fields) == [
        "custom_region", "custom_notes2", "custom_staff", "custom_limit", "custom_since", "custom_visit", "custom_vip",
        "custom_colour", "custom_tags", "custom_drawing", "custom_office",
    ]
    region = fields["custom_region"]
    assert (type(region), region.label, region.help_text, region.required) == (forms.CharField, "Region", "Sales region", True)
    assert isinstance(fields["custom_notes2"].widget, forms.Textarea)
    assert type(fields["custom_staff"]) is forms.IntegerField
    assert (type(fields["custom_limit"]), fields["custom_limit"].decimal_places) == (forms.DecimalField, 2)
    assert fields["custom_since"].widget.input_type == "date"
    assert fields["custom_visit"].widget.input_type == "datetime-local"
    # a yes/no box is never required (unticked means no) and starts from its default
    assert (type(fields["custom_vip"]), fields["custom_vip"].required, fields["custom_vip"].initial) == (forms.BooleanField, False, True)
    assert list(fields["custom_colour"].choices) == [("", "---------"), ("red", "Red"), ("blue", "Blue"), ("green", "Green")]
    assert isinstance(fields["custom_tags"].widget, forms.SelectMultiple)
    assert (isinstance(fields["custom_drawing"].widget, forms.ClearableFileInput), fields["custom_drawing"].required) == (True, False)
    assert list(fields["custom_office"].choices) == [("", "---------"), (department.pk, "Workshop")]
    assert "pipeline_only" in [name[len("custom_"):] for name in form_fields(ENTITY, context="pipeline:1")]


def test_link_select_offers_at_most_500_records_but_accepts_any(make_field):
    Department.objects.bulk_create([Department(name=f"D{n:03d}") for n in range(501)])
    make_field("office", "link", target_entity="core.department")
    field = form_fields(ENTITY)["custom_office"]
    assert len(list(field.choices)) == 501  # the empty choice and 500 records
    last = Department.objects.order_by("-pk").first()
    assert field.clean(str(last.pk)) == last


def test_a_form_round_trip_stores_the_values_and_shows_them_again(make_field, media_root):
    # given fields of each kind
    department = Department.objects.create(name="Workshop")
    make_field("staff", "integer")
    make_field("limit", "decimal")
    make_field("since", "date")
    make_field("visit", "datetime")
    make_field("vip", "boolean")
    make_field("tags", "multichoice", choices=COLOURS)
    make_field("office", "link", target_entity="core.department")
    make_field("drawing", "file")
    # when a form is submitted with an upload
    upload = SimpleUploadedFile("plan v2.pdf", b"%PDF-1.4 plan", content_type="application/pdf")
    form = custom_form(
        {"custom_staff": "12", "custom_limit": "1500.50", "custom_since": "2025-01-31", "custom_visit": "2025-02-01T09:15",
         "custom_vip": "on", "custom_tags": ["blue", "red"], "custom_office": str(department.pk)},
        {"custom_drawing": upload},
    )
    assert form.is_valid(), form.errors
    values = custom_from_form(ENTITY, form.cleaned_data)
    stored = clean_custom_values(ENTITY, values, existing=None)
    # then the stored values are in their JSON form and the file was saved under custom/<entity>/
    path = stored["drawing"]["path"]
    assert stored == {
        "staff": 12, "limit": "1500.50", "since": "2025-01-31", "visit": "2025-02-01T09:15:00+00:00", "vip": True,
        "tags": ["red", "blue"], "office": department.pk, "drawing": {"name": "plan v2.pdf", "path": path, "size": 13},
    }
    assert path.startswith("custom/parties.counterparty/") and path.endswith("_plan_v2.pdf")
    assert default_storage.open(path).read() == b"%PDF-1.4 plan"
    # and the edit form starts from them
    initial = initial_from_custom(ENTITY, stored)
    assert initial == {
        "custom_staff": 12, "custom_limit": Decimal("1500.50"), "custom_since": dt.date(2025, 1, 31),
        "custom_visit": dt.datetime(2025, 2, 1, 9, 15, tzinfo=dt.UTC), "custom_vip": True, "custom_tags": ["red", "blue"],
        "custom_office": department.pk, "custom_drawing": StoredFile(name="plan v2.pdf", path=path, size=13),
    }
    # when it is saved again without a new upload, the file is kept; when "clear" is ticked, it is removed
    kept = custom_form({"custom_staff": "13", "custom_office": str(department.pk)}, {}, initial=initial)
    assert kept.is_valid(), kept.errors
    assert custom_from_form(ENTITY, kept.cleaned_data)["drawing"] == stored["drawing"]
    assert clean_custom_values(ENTITY, custom_from_form(ENTITY, kept.cleaned_data), existing=stored)["drawing"] == stored["drawing"]
    cleared = custom_form({"custom_drawing-clear": "on"}, {}, initial=initial)
    assert cleared.is_valid(), cleared.errors
    assert "drawing" not in clean_custom_values(ENTITY, custom_from_form(ENTITY, cleared.cleaned_data), existing=stored)


def test_file_uploads_are_limited_in_size_and_type(make_field, settings, media_root):
    settings.FABRIKA_ATTACHMENT_MAX_BYTES = 10
    make_field("drawing", "file")
    too_big = custom_form({}, {"custom_drawing": SimpleUploadedFile("a.pdf", b"x" * 11)})
    assert too_big.errors == {"custom_drawing": ["The file is too large: at most 10 bytes"]}
    wrong_type = custom_form({}, {"custom_drawing": SimpleUploadedFile("a.exe", b"x")})
    assert not wrong_type.is_valid()
    assert wrong_type.errors["custom_drawing"][0].startswith("File extension “exe” is not allowed.")


def test_display_values_for_cards_and_lists(make_field):
    department = Department.objects.create(name="Workshop")
    fields = {
        "vip": make_field("vip", "boolean"),
        "colour": make_field("colour", "choice", choices=COLOURS),
        "tags": make_field("tags", "multichoice", choices=COLOURS),
        "visit": make_field("visit", "datetime"),
        "drawing": make_field("drawing", "file"),
        "office": make_field("office", "link", target_entity="core.department"),
        "limit": make_field("limit", "decimal"),
    }
    assert display_value(fields["vip"], True) == "Yes"
    assert display_value(fields["vip"], False) == "No"
    assert display_value(fields["colour"], "blue") == "Blue"
    assert display_value(fields["colour"], "retired") == "retired"
    assert display_value(fields["tags"], ["red", "green"]) == "Red, Green"
    assert display_value(fields["visit"], "2025-02-01T09:15:00+00:00") == "2025-02-01 09:15"
    assert display_value(fields["drawing"], {"name": "plan.pdf", "path": "custom/x", "size": 2048}) == "plan.pdf (2.0 KB)"
    assert display_value(fields["office"], department.pk) == "Workshop"
    assert display_value(fields["office"], department.pk + 99) == f"#{department.pk + 99} (not found)"
    assert display_value(fields["limit"], "10.50") == "10.50"
    assert display_value(fields["limit"], None) == ""
    # many link values with one query
    labels = link_labels(fields["office"], [department.pk, department.pk, None])
    assert labels == {department.pk: "Workshop"}
    assert display_value(fields["office"], department.pk, links=labels) == "Workshop"
    # and a card shows the filled fields in order
    assert card_rows(ENTITY, {"vip": True, "colour": "red"}) == [("Vip", "Yes"), ("Colour", "Red")]


def test_export_values_are_typed_cells(make_field):
    department = Department.objects.create(name="Workshop")
    assert export_value(make_field("staff", "integer"), 12) == 12
    assert export_value(make_field("limit", "decimal"), "10.50") == Decimal("10.50")
    assert export_value(make_field("since", "date"), "2025-01-31") == dt.date(2025, 1, 31)
    assert export_value(make_field("visit", "datetime"), "2025-02-01T09:15:00+00:00") == dt.datetime(2025, 2, 1, 9, 15)
    assert export_value(make_field("vip", "boolean"), False) is False
    assert export_value(make_field("tags", "multichoice", choices=COLOURS), ["red", "blue"]) == "Red; Blue"
    assert export_value(make_field("office", "link", target_entity="core.department"), department.pk) == "Workshop"
    assert export_value(make_field("drawing", "file"), {"name": "plan.pdf", "path": "p", "size": 1}) == "plan.pdf"
    assert export_value(make_field("note", "text"), None) is None


@pytest.mark.parametrize(
    ("field_type", "extra", "cell", "stored"),
    [
        ("integer", {}, "1 234", 1234),
        ("integer", {}, 12.0, 12),
        ("decimal", {}, "1 234,50", "1234.50"),
        ("decimal", {}, Decimal("7.25"), "7.25"),
        ("date", {}, "31.01.2025", "2025-01-31"),
        ("date", {}, dt.datetime(2025, 1, 31), "2025-01-31"),
        ("datetime", {}, "01.02.2025 09:15", "2025-02-01T09:15:00+00:00"),
        ("datetime", {}, dt.datetime(2025, 2, 1, 9, 15), "2025-02-01T09:15:00+00:00"),
        ("boolean", {}, "Yes", True),
        ("boolean", {}, "нет", False),
        ("boolean", {}, True, True),
        ("choice", {"choices": COLOURS}, "blue", "blue"),
        ("choice", {"choices": COLOURS}, "GREEN", "green"),
        ("multichoice", {"choices": COLOURS}, "Red; Blue", ["red", "blue"]),
        ("multichoice", {"choices": COLOURS}, "green, red", ["red", "green"]),
        ("text", {}, "  ", None),
        ("text", {}, None, None),
    ],
)
def test_import_values_accept_spreadsheet_spellings(make_field, field_type, extra, cell, stored):
    assert import_value(make_field("value", field_type, **extra), cell) == stored


def test_import_link_by_id_or_name(make_field):
    workshop = Department.objects.create(name="Workshop")
    Department.objects.create(name="Office")
    Department.objects.create(name="Office")
    field = make_field("office", "link", target_entity="core.department")
    assert import_value(field, str(workshop.pk)) == workshop.pk
    assert import_value(field, "workshop") == workshop.pk
    with pytest.raises(ValueError, match="^No department called Garage$"):
        import_value(field, "Garage")
    with pytest.raises(ValueError, match="^More than one department is called Office: use the id$"):
        import_value(field, "Office")


@pytest.mark.parametrize(
    ("field_type", "extra", "cell", "message"),
    [
        ("integer", {}, "12.5", "Enter a whole number"),
        ("decimal", {}, "1.234,50", "Enter a number, e.g. 12.50"),
        ("date", {}, "2025/01/31", "Enter a date as YYYY-MM-DD"),
        ("boolean", {}, "perhaps", "Enter yes or no (true or false)"),
        ("choice", {"choices": COLOURS}, "pink", "Not one of the choices: red, blue, green"),
        ("file", {}, "plan.pdf", "Files cannot be imported from a spreadsheet; attach them on the record"),
    ],
)
def test_import_values_name_the_rule(make_field, field_type, extra, cell, message):
    with pytest.raises(ValueError) as caught:
        import_value(make_field("value", field_type, **extra), cell)
    assert str(caught.value) == message


def test_service_errors_map_to_form_fields():
    assert form_field_name("custom.staff") == "custom_staff"
    assert form_field_name("name") == "name"
