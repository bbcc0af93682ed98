"""A sales manager on the kanban: drags a deal into a stage whose required field is empty (refused, the message
names the field), fills the field in, drags again (the deal moves and the column totals follow)."""

from __future__ import annotations

import pytest

from fabrika.crm.models import Deal
from fabrika.crm.services_pipelines import deal_create, pipeline_create
from fabrika.parties.models import Counterparty

PASSWORD = "pass-Word-123"


def _drag(page, card_selector: str, column_selector: str) -> None:
    card = page.locator(card_selector).bounding_box()
    column = page.locator(column_selector).bounding_box()
    page.mouse.move(card["x"] + 20, card["y"] + 10)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(
            card["x"] + 20 + (column["x"] + 40 - card["x"] - 20) * step / 10,
            card["y"] + 10 + (column["y"] + 20 - card["y"] - 10) * step / 10,
        )
        page.wait_for_timeout(30)
    page.mouse.up()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_drag_refused_then_filled_then_moved(live_server, page, make_user, admin_user):
    manager = make_user("Sales manager", username="anna")
    pipeline = pipeline_create(
        actor=admin_user,
        data={"name": "Sales"},
        stages=[{"name": "New"}, {"name": "Proposal", "required_fields": ["amount"]}, {"name": "Won", "kind": "won"}],
    )
    party = Counterparty.objects.create(name="Robot club", is_client=True, responsible=manager)
    deal = deal_create(actor=manager, pipeline=pipeline, title="Ten kits", counterparty=party)
    proposal = pipeline.stages.get(name="Proposal")
    base = live_server.url

    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/crm/pipelines/{pipeline.pk}/board/")
    page.wait_for_function("window.Sortable !== undefined")
    card = f"li.kanban-card[data-deal-id='{deal.pk}']"
    target = f"ul[data-stage-id='{proposal.pk}']"
    _drag(page, card, target)
    error = page.locator("#kanban-error")
    error.wait_for()
    assert "amount" in error.inner_text()
    assert Deal.objects.get(pk=deal.pk).stage.name == "New"

    page.click("#kanban-error a")
    page.fill("input[name=amount]", "1500")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/crm/pipelines/{pipeline.pk}/board/")

    page.wait_for_function("window.Sortable !== undefined")
    _drag(page, card, target)
    page.locator("#kanban-notice").wait_for()
    assert Deal.objects.get(pk=deal.pk).stage == proposal
    totals = page.locator(f"[data-testid='stage-{proposal.pk}-totals']").inner_text()
    assert totals.startswith("1")
