"""A sales manager's journey in a real browser: log in, create a counterparty through the form (a bad INN first,
shown beside the field), find it in the list by search, export it, look at the list at phone width, switch to
Russian."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fabrika.parties.models import Counterparty
from fabrika.parties.services import counterparty_create

PASSWORD = "pass-Word-123"
BAD_INN = "7707083894"  # wrong checksum digit
GOOD_INN = "7707083893"
# The main navigation's entry for counterparties in Russian.
EXPECTED_RUSSIAN_NAV_WORD = "Контрагенты"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_create_find_export_switch_language(live_server, page, make_user):
    # given a sales manager, and another manager's counterparty the search must not show
    manager = make_user("Sales manager", username="anna")
    counterparty_create(actor=make_user("Sales manager", username="boris"), data={"name": "Lyceum 30 (not mine)"})
    counterparty_create(actor=manager, data={"name": "Robot club"})
    base = live_server.url

    # log in
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    # create with a bad INN: the error shows beside the field as soon as it is left (htmx), and on save
    page.goto(f"{base}/parties/counterparties/new/")
    page.fill("input[name=name]", "Lyceum 239")
    page.fill("input[name=tax_id]", BAD_INN)
    page.press("input[name=tax_id]", "Tab")
    inline_error = page.locator("#field-tax_id .error")
    inline_error.wait_for()
    assert inline_error.inner_text() == "The INN checksum does not match: check the digits"
    page.click("button.primary[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#field-tax_id .error").inner_text() == "The INN checksum does not match: check the digits"
    assert not Counterparty.objects.filter(name="Lyceum 239").exists()

    # fix it and save: the card opens
    page.fill("input[name=tax_id]", GOOD_INN)
    page.press("input[name=tax_id]", "Tab")
    page.locator("#field-tax_id.has-error").wait_for(state="detached")
    page.click("button.primary[type=submit]")
    page.wait_for_url(f"{base}/parties/counterparties/*/")
    assert page.locator("h1").inner_text() == "Lyceum 239"
    created = Counterparty.objects.get(name="Lyceum 239")
    assert (created.tax_id, created.responsible_id) == (GOOD_INN, manager.pk)

    # find it in the list by search (the table refreshes in place)
    page.goto(f"{base}/parties/counterparties/")
    page.fill("#list-filters input[name=q]", "Lyceum")
    page.wait_for_url("**/parties/counterparties/?*q=Lyceum*")
    rows = page.locator("#list-results tbody tr")
    rows.filter(has_text="Lyceum 239").wait_for()
    assert rows.count() == 1
    assert "Robot club" not in page.locator("#list-results").inner_text()

    # export the filtered list: CSV and XLSX hold that one row
    with page.expect_download() as download_info:
        page.click("text=Export CSV")
    content = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert list(csv.reader(io.StringIO(content)))[1:] == [["Lyceum 239", "", GOOD_INN, "", "", "anna"]]
    with page.expect_download() as download_info:
        page.click("text=Export XLSX")
    assert download_info.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes())).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Lyceum 239"]

    # at phone width the page fits the screen and the menu folds behind a button
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{base}/parties/counterparties/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.locator(".nav-toggle").is_visible()
    assert not page.locator("#mainnav").is_visible()
    page.click(".nav-toggle")
    assert page.locator("#mainnav a", has_text="Counterparties").is_visible()
    page.set_viewport_size({"width": 1280, "height": 800})

    # switch to Russian
    with page.expect_navigation():
        page.select_option(".langswitch select[name=language]", "ru")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert EXPECTED_RUSSIAN_NAV_WORD in page.locator("#mainnav").inner_text()
