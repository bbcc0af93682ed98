"""clean_custom_values: each type's conversion to the stored form and its validation errors."""

from __future__ import annotations

import datetime as dt

import pytest

from fabrika.core.custom_fields import clean_custom_values, definitions_for
from fabrika.core.errors import ValidationError
from fabrika.core.models import Department
from fabrika.parties.models import Counterparty
from fabrika.parties.services import counterparty_create, counterparty_update

ENTITY = "parties.counterparty"
COLOURS = [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}, {"value": "green", "label": "Green"}]


def errors_of(values, *, existing=None, context=None) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        clean_custom_values(ENTITY, values, existing=existing, context=context)
    return caught.value.errors


@pytest.mark.parametrize(
    ("field_type", "extra", "given", "stored"),
    [
        ("text", {}, "  Hello  ", "Hello"),
        ("long_text", {}, "line one\nline two", "line one\nline two"),
        ("integer", {}, 42, 42),
        ("integer", {}, " -17 ", -17),
        ("integer", {}, 12.0, 12),
        ("decimal", {}, "12.50", "12.50"),
        ("decimal", {}, "-0.0010", "-0.0010"),
        ("decimal", {}, 7, "7"),
        ("decimal", {}, 2.5, "2.5"),
        ("decimal", {}, "123456789012.345", "123456789012.345"),
        ("date", {}, "2025-03-31", "2025-03-31"),
        ("date", {}, dt.date(2024, 2, 29), "2024-02-29"),
        ("datetime", {}, "2025-03-31T12:30:15.123456+03:00", "2025-03-31T09:30:15+00:00"),
        ("datetime", {}, "2025-03-31T12:30", "2025-03-31T12:30:00+00:00"),
        ("boolean", {}, True, True),
        ("boolean", {}, "no", False),
        ("choice", {"choices": COLOURS}, "blue", "blue"),
        ("multichoice", {"choices": COLOURS}, ["green", "red", "green"], ["red", "green"]),
    ],
)
def test_each_type_is_converted_to_its_stored_form(make_field, field_type, extra, given, stored):
    # given a field of this type
    make_field("value", field_type, **extra)
    # when a value is cleaned for a new record
    cleaned = clean_custom_values(ENTITY, {"value": given}, existing=None)
    # then it is kept in the stored JSON form
    assert cleaned == {"value": stored}


@pytest.mark.parametrize(
    ("field_type", "extra", "given", "message"),
    [
        ("text", {}, "x" * 1001, "At most 1000 characters"),
        ("text", {}, ["a"], "Enter text"),
        ("long_text", {}, "x" * 10001, "At most 10000 characters"),
        ("integer", {}, "12.5", "Enter a whole number"),
        ("integer", {}, 12.5, "Enter a whole number"),
        ("integer", {}, True, "Enter a whole number"),
        ("integer", {}, "ten", "Enter a whole number"),
        ("integer", {}, 10**15, "At most 15 digits"),
        ("decimal", {}, "12,5", "Enter a number, e.g. 12.50"),
        ("decimal", {}, "NaN", "Enter a number, e.g. 12.50"),
        ("decimal", {}, "1234567890123.456", "At most 15 digits"),
        ("decimal", {"decimal_places": 2}, "1.005", "At most 2 decimal places"),
        ("date", {}, "31.03.2025", "Enter a date as YYYY-MM-DD"),
        ("date", {}, "2025-02-30", "Enter a valid date as YYYY-MM-DD"),
        ("datetime", {}, "tomorrow at noon", "Enter a date and time as YYYY-MM-DDTHH:MM"),
        ("boolean", {}, "maybe", "Enter yes or no (true or false)"),
        ("choice", {"choices": COLOURS}, "purple", "Not one of the choices: red, blue, green"),
        ("multichoice", {"choices": COLOURS}, ["red", "purple"], "Not one of the choices: red, blue, green"),
        ("multichoice", {"choices": COLOURS}, {"red": True}, "Enter a list of choices: red, blue, green"),
    ],
)
def test_each_type_names_the_rule_it_refuses(make_field, field_type, extra, given, message):
    # given a field of this type
    make_field("value", field_type, **extra)
    # when a bad value is cleaned, then the error is keyed by the field and names the rule
    assert errors_of({"value": given}) == {"custom.value": [message]}


def test_all_errors_are_reported_at_once(make_field):
    # given three fields
    make_field("quantity", "integer")
    make_field("colour", "choice", choices=COLOURS)
    make_field("contract", "text", required=True)
    # when every value is wrong, then every field is named
    assert errors_of({"quantity": "x", "colour": "pink", "ghost": 1}) == {
        "custom.quantity": ["Enter a whole number"],
        "custom.colour": ["Not one of the choices: red, blue, green"],
        "custom.ghost": ["Unknown field"],
        "custom.contract": ["Required"],
    }


def test_required_refuses_missing_and_empty_values_but_accepts_false(make_field):
    # given a required text field and a required yes/no field
    make_field("contract", "text", required=True)
    make_field("agreed", "boolean", required=True)
    # then nothing, blanks and empty lists are missing
    assert errors_of({}) == {"custom.contract": ["Required"], "custom.agreed": ["Required"]}
    assert errors_of({"contract": "   ", "agreed": None}) == {"custom.contract": ["Required"], "custom.agreed": ["Required"]}
    # and "no" is an answer
    assert clean_custom_values(ENTITY, {"contract": "C-1", "agreed": False}, existing=None) == {"contract": "C-1", "agreed": False}


def test_required_is_checked_on_the_merged_result_for_existing_records(make_field):
    # given a required field already filled on a record
    make_field("contract", "text", required=True)
    make_field("note", "text")
    existing = {"contract": "C-1"}
    # when another field is changed, the stored value satisfies the rule
    assert clean_custom_values(ENTITY, {"note": "n"}, existing=existing) == {"contract": "C-1", "note": "n"}
    # but clearing it is refused
    assert errors_of({"contract": ""}, existing=existing) == {"custom.contract": ["Required"]}


def test_defaults_fill_new_records_only(make_field):
    # given fields with defaults
    make_field("export", "boolean", default=True)
    make_field("discount", "decimal", default="5.00")
    make_field("colour", "choice", choices=COLOURS, default="green")
    make_field("tags", "multichoice", choices=COLOURS, default=["blue"])
    # when a new record gives one value, the others get their defaults
    assert clean_custom_values(ENTITY, {"discount": "7.5"}, existing=None) == {
        "export": True,
        "discount": "7.5",
        "colour": "green",
        "tags": ["blue"],
    }
    # and an explicit empty value is respected
    assert clean_custom_values(ENTITY, {"colour": None}, existing=None) == {"export": True, "discount": "5.00", "tags": ["blue"]}
    # while an existing record is not filled
    assert clean_custom_values(ENTITY, {"discount": "1"}, existing={}) == {"discount": "1"}


def test_unknown_codes_are_refused_but_stored_values_of_other_fields_are_kept(make_field):
    # given a global field and a field of pipeline 7, and a field that was deactivated
    make_field("region", "text")
    make_field("budget", "decimal", context="pipeline:7")
    retired = make_field("old", "text")
    retired.is_active = False
    retired.save()
    existing = {"region": "North", "budget": "100", "old": "kept"}
    # when the global fields are edited without a context
    cleaned = clean_custom_values(ENTITY, {"region": "South"}, existing=existing)
    # then the other context's and the retired field's values stay
    assert cleaned == {"region": "South", "budget": "100", "old": "kept"}
    # and sending them back unchanged is accepted, but changing them is not
    assert clean_custom_values(ENTITY, dict(existing), existing=existing) == existing
    assert errors_of({"budget": "200"}, existing=existing) == {"custom.budget": ["Unknown field"]}
    # and in its context the pipeline field is known
    assert clean_custom_values(ENTITY, {"budget": "200"}, existing=existing, context="pipeline:7")["budget"] == "200"


def test_definitions_for_adds_context_fields_to_global_ones_in_order(make_field):
    make_field("b_field", "text", order=20)
    make_field("a_field", "text", order=10)
    make_field("deal_size", "decimal", context="pipeline:1", order=15)
    make_field("other", "text", context="pipeline:2")
    assert [d.code for d in definitions_for(ENTITY)] == ["a_field", "b_field"]
    assert [d.code for d in definitions_for(ENTITY, context="pipeline:1")] == ["a_field", "deal_size", "b_field"]


def test_empty_value_removes_the_key(make_field):
    make_field("note", "text")
    make_field("tags", "multichoice", choices=COLOURS)
    assert clean_custom_values(ENTITY, {"note": "", "tags": []}, existing={"note": "x", "tags": ["red"]}) == {}


def test_link_stores_the_id_of_an_existing_record_and_refuses_a_missing_one(make_field, admin_user):
    # given a link to departments
    workshop = Department.objects.create(name="Workshop")
    make_field("department", "link", target_entity="core.department")
    # then an id (number, text or the record itself) is stored as an int
    assert clean_custom_values(ENTITY, {"department": workshop.pk}, existing=None) == {"department": workshop.pk}
    assert clean_custom_values(ENTITY, {"department": str(workshop.pk)}, existing=None) == {"department": workshop.pk}
    assert clean_custom_values(ENTITY, {"department": workshop}, existing=None) == {"department": workshop.pk}
    # and a missing record or a non-id is refused
    missing = workshop.pk + 1000
    assert errors_of({"department": missing}) == {"custom.department": [f"No department with id {missing}"]}
    assert errors_of({"department": "Workshop"}) == {"custom.department": ["Enter the id of a department"]}


def test_file_values_must_be_uploaded_files_of_this_entity(make_field, media_root):
    # given a file field and a file stored for it
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    make_field("drawing", "file")
    path = default_storage.save("custom/parties.counterparty/abc_drawing.pdf", ContentFile(b"%PDF-1.4"))
    value = {"name": "drawing.pdf", "path": path, "size": 8}
    # then a stored file of the entity is accepted
    assert clean_custom_values(ENTITY, {"drawing": value}, existing=None) == {"drawing": value}
    # and the stored value sent back unchanged is kept
    assert clean_custom_values(ENTITY, {"drawing": value}, existing={"drawing": value}) == {"drawing": value}
    # but a path outside the entity's folder, or to nothing, is refused
    message = ["Upload a file through the form; a file value cannot be set by its path"]
    assert errors_of({"drawing": {"name": "x", "path": "imports/secret.xlsx", "size": 1}}) == {"custom.drawing": message}
    assert errors_of({"drawing": {"name": "x", "path": "custom/parties.counterparty/none.pdf", "size": 1}}) == {"custom.drawing": message}
    assert errors_of({"drawing": "drawing.pdf"}) == {"custom.drawing": message}


def test_not_an_object_is_refused(make_field):
    with pytest.raises(ValidationError) as caught:
        clean_custom_values(ENTITY, ["a"], existing=None)  # type: ignore[arg-type]
    assert caught.value.errors == {"custom": ["Must be an object keyed by field code"]}


def test_counterparty_service_stores_custom_values_and_refuses_bad_ones(make_field, admin_user):
    # given a required integer and a decimal with a default
    make_field("employees", "integer", required=True)
    make_field("credit_limit", "decimal", default="1000.00")
    # when a counterparty is created with a bad value, then nothing is created
    with pytest.raises(ValidationError) as caught:
        counterparty_create(actor=admin_user, data={"name": "Lyceum 239", "custom": {"employees": "many"}})
    assert caught.value.errors == {"custom.employees": ["Enter a whole number"]}
    assert Counterparty.objects.count() == 0
    # when it is created with good values, then they are stored with the default
    party = counterparty_create(actor=admin_user, data={"name": "Lyceum 239", "custom": {"employees": "120"}})
    party.refresh_from_db()
    assert party.custom == {"employees": 120, "credit_limit": "1000.00"}
    # and a bad update changes nothing
    with pytest.raises(ValidationError):
        counterparty_update(actor=admin_user, counterparty_id=party.pk, data={"name": "Renamed", "custom": {"credit_limit": "lots"}})
    party.refresh_from_db()
    assert (party.name, party.custom) == ("Lyceum 239", {"employees": 120, "credit_limit": "1000.00"})
