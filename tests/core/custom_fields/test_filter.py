"""filter_queryset on the current database (run the suite on SQLite and on PostgreSQL)."""

from __future__ import annotations

import pytest
from django import forms

from fabrika.core.custom_fields import filter_form_fields, filter_queryset
from fabrika.core.errors import ValidationError
from fabrika.core.models import Department
from fabrika.parties.models import Counterparty
from fabrika.parties.services import counterparty_create

ENTITY = "parties.counterparty"
COLOURS = [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}, {"value": "green", "label": "Green"}]


@pytest.fixture
def parties(make_field, admin_user):
    """Four counterparties with filterable custom values; "Delta" has none."""
    north = Department.objects.create(name="North")
    south = Department.objects.create(name="South")
    make_field("note", "text", filterable=True)
    make_field("colour", "choice", choices=COLOURS, filterable=True)
    make_field("tags", "multichoice", choices=COLOURS, filterable=True)
    make_field("vip", "boolean", filterable=True)
    make_field("office", "link", target_entity="core.department", filterable=True)
    make_field("staff", "integer", filterable=True)
    make_field("limit", "decimal", filterable=True)
    make_field("since", "date", filterable=True)
    make_field("visit", "datetime", filterable=True)
    make_field("hidden", "text")
    rows = [
        ("Alpha", {"note": "Wants the Robo kit", "colour": "red", "tags": ["red", "blue"], "vip": True, "office": north.pk,
                   "staff": 9, "limit": "9.5", "since": "2024-12-31", "visit": "2025-03-01T08:00:00+00:00"}),
        ("Bravo", {"note": "robotics club", "colour": "blue", "tags": ["blue"], "vip": False, "office": south.pk,
                   "staff": 10, "limit": "10.25", "since": "2025-01-01", "visit": "2025-03-01T23:59:59+00:00"}),
        ("Charlie", {"colour": "green", "tags": ["green"], "staff": 100, "limit": "123456789012.345",
                     "since": "2025-02-15", "visit": "2025-03-02T00:00:00+00:00"}),
        ("Delta", {}),
    ]
    for name, custom in rows:
        counterparty_create(actor=admin_user, data={"name": name, "custom": custom})
    return {"north": north, "south": south}


def names(params) -> list[str]:
    queryset = filter_queryset(Counterparty.objects.all(), ENTITY, params)
    return sorted(queryset.values_list("name", flat=True))


def test_text_contains_ignoring_case(parties):
    assert names({"cf_note": "ROBO"}) == ["Alpha", "Bravo"]
    assert names({"cf_note": "kit"}) == ["Alpha"]


def test_choice_boolean_link_and_integer_equal(parties):
    assert names({"cf_colour": "blue"}) == ["Bravo"]
    assert names({"cf_vip": "yes"}) == ["Alpha"]
    # "no" includes the records that never got a value
    assert names({"cf_vip": "no"}) == ["Bravo", "Charlie", "Delta"]
    assert names({"cf_office": str(parties["south"].pk)}) == ["Bravo"]
    assert names({"cf_staff": "10"}) == ["Bravo"]


def test_multichoice_holds_the_value(parties):
    assert names({"cf_tags": "blue"}) == ["Alpha", "Bravo"]
    assert names({"cf_tags": "green"}) == ["Charlie"]


def test_integer_range_compares_numbers(parties):
    # 9 < 10 < 100 although "9" > "10" > "100" as text
    assert names({"cf_staff_from": "10"}) == ["Bravo", "Charlie"]
    assert names({"cf_staff_to": "10"}) == ["Alpha", "Bravo"]
    assert names({"cf_staff_from": "10", "cf_staff_to": "99"}) == ["Bravo"]


def test_decimal_range_compares_numbers_not_text(parties):
    # stored as text "9.5", "10.25", "123456789012.345": a text comparison would put "9.5" last
    assert names({"cf_limit_from": "10"}) == ["Bravo", "Charlie"]
    assert names({"cf_limit_to": "9.50"}) == ["Alpha"]
    assert names({"cf_limit_from": "9.51", "cf_limit_to": "10.25"}) == ["Bravo"]
    assert names({"cf_limit_from": "123456789012.345"}) == ["Charlie"]
    assert names({"cf_limit_from": "123456789012.346"}) == []
    assert names({"cf_limit": "10.250"}) == ["Bravo"]


def test_date_range_and_equal(parties):
    assert names({"cf_since_from": "2025-01-01"}) == ["Bravo", "Charlie"]
    assert names({"cf_since_to": "2025-01-01"}) == ["Alpha", "Bravo"]
    assert names({"cf_since": "2025-02-15"}) == ["Charlie"]


def test_datetime_range_a_date_alone_as_the_end_means_the_whole_day(parties):
    assert names({"cf_visit_to": "2025-03-01"}) == ["Alpha", "Bravo"]
    assert names({"cf_visit_from": "2025-03-01T09:00"}) == ["Bravo", "Charlie"]
    assert names({"cf_visit_from": "2025-03-01T23:59:59", "cf_visit_to": "2025-03-02T00:00"}) == ["Bravo", "Charlie"]
    assert names({"cf_visit_to": "2025-03-01T08:00"}) == ["Alpha"]


def test_empty_parameters_and_other_parameters_are_ignored(parties):
    assert names({"cf_colour": "", "q": "x", "page": "2"}) == ["Alpha", "Bravo", "Charlie", "Delta"]


def test_filters_combine(parties):
    assert names({"cf_tags": "blue", "cf_staff_from": "10"}) == ["Bravo"]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"cf_hidden": "x"}, {"cf_hidden": ["Not a filterable custom field"]}),
        ({"cf_ghost": "x"}, {"cf_ghost": ["Not a filterable custom field"]}),
        ({"cf_note_from": "a"}, {"cf_note_from": ["Not a filterable custom field"]}),
        ({"cf_staff_from": "ten"}, {"cf_staff_from": ["Enter a whole number"]}),
        ({"cf_limit_to": "1.2.3"}, {"cf_limit_to": ["Enter a number, e.g. 12.50"]}),
        ({"cf_since": "yesterday"}, {"cf_since": ["Enter a date as YYYY-MM-DD"]}),
        ({"cf_colour": "pink"}, {"cf_colour": ["Not one of the choices: red, blue, green"]}),
        ({"cf_vip": "perhaps"}, {"cf_vip": ["Enter yes or no (true or false)"]}),
        ({"cf_office": "North"}, {"cf_office": ["Enter a whole number"]}),
        ({"cf_visit": "2025-03-01"}, {"cf_visit": ["Filter a date and time by range: use cf_visit_from and cf_visit_to"]}),
    ],
)
def test_bad_filters_are_refused_naming_the_parameter(parties, params, errors):
    with pytest.raises(ValidationError) as caught:
        names(params)
    assert caught.value.errors == errors



def test_a_comma_is_read_as_the_decimal_point_in_filters(parties):
    assert names({"cf_limit_from": "9,6"}) == ["Bravo", "Charlie"]


def test_filter_form_fields_are_named_as_filter_queryset_reads_them(parties):
    fields = filter_form_fields(ENTITY)
    assert list(fields) == [
        "cf_note", "cf_colour", "cf_tags", "cf_vip", "cf_office", "cf_staff_from", "cf_staff_to", "cf_limit_from",
        "cf_limit_to", "cf_since_from", "cf_since_to", "cf_visit_from", "cf_visit_to",
    ]
    assert [str(label) for _value, label in fields["cf_vip"].choices] == ["Any", "Yes", "No"]
    assert fields["cf_since_from"].widget.input_type == "date"
    assert str(fields["cf_staff_to"].label) == "Staff to"
    # a submitted filter form filters the list
    form = forms.Form({"cf_tags": "blue", "cf_staff_from": "10", "cf_vip": "", "cf_office": str(parties["south"].pk)})
    form.fields.update(fields)
    assert form.is_valid(), form.errors
    assert names(form.cleaned_data) == ["Bravo"]
