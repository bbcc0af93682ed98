from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from fabrika.core.errors import ValidationError
from fabrika.core.models import AuditEntry, OutboxEvent
from fabrika.core.services_custom_fields import custom_field_create
from fabrika.crm.models import Deal, DealStageHistory
from fabrika.crm.services_pipelines import RequiredFieldsMissing, deal_create, deal_move, deal_update

pytestmark = pytest.mark.django_db


def test_deal_create_numbers_it_and_starts_history_in_first_open_stage(manager, pipeline, stages, client_party):
    deal = deal_create(actor=manager, pipeline=pipeline, title="10 robot kits", counterparty=client_party, amount="1500.5")
    assert deal.number.endswith("1")
    assert deal.stage == stages["New"]
    assert deal.amount == Decimal("1500.50")
    assert deal.responsible == manager
    history = list(DealStageHistory.objects.filter(deal=deal))
    assert [(h.stage.name, h.from_stage, h.left_at) for h in history] == [("New", None, None)]
    assert AuditEntry.objects.filter(object_id=str(deal.pk), action="create", object_repr__startswith=deal.number).count() == 1
    assert OutboxEvent.objects.filter(event_type="crm.deal.created", aggregate_id=str(deal.pk)).count() == 1


def test_deal_create_rejects_bad_input_and_saves_nothing(manager, pipeline, client_party):
    with pytest.raises(ValidationError) as error:
        deal_create(actor=manager, pipeline=pipeline, title=" ", counterparty=client_party, amount="-3", expected_close="31.12.2026")
    assert set(error.value.field_errors()) == {"title", "amount", "expected_close"}
    assert Deal.objects.count() == 0


def test_move_into_stage_with_empty_required_field_is_refused_naming_it(manager, pipeline, stages, client_party):
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party)
    with pytest.raises(RequiredFieldsMissing) as error:
        deal_move(actor=manager, deal=deal, stage=stages["Negotiation"])
    assert "amount" in error.value.message and "expected close" in error.value.message
    deal.refresh_from_db()
    assert deal.stage == stages["New"]
    assert DealStageHistory.objects.filter(deal=deal).count() == 1


def test_move_closes_history_and_won_closes_deal(manager, pipeline, stages, client_party):
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party, amount="100")
    deal = deal_move(actor=manager, deal=deal, stage=stages["Proposal"])
    deal = deal_move(actor=manager, deal=deal, stage=stages["Won"], reason="Best price")
    assert deal.closed_at is not None
    assert deal.won_reason == "Best price"
    rows = list(DealStageHistory.objects.filter(deal=deal).order_by("entered_at", "id"))
    assert [r.stage.name for r in rows] == ["New", "Proposal", "Won"]
    assert rows[0].left_at == rows[1].entered_at
    assert rows[2].left_at is None
    assert rows[2].from_stage == stages["Proposal"]


def test_lost_needs_a_reason_and_reopening_clears_closed(manager, pipeline, stages, client_party):
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party)
    with pytest.raises(ValidationError) as error:
        deal_move(actor=manager, deal=deal, stage=stages["Lost"])
    assert "reason" in error.value.field_errors()
    deal = deal_move(actor=manager, deal=deal, stage=stages["Lost"], reason="Too expensive")
    assert deal.lost_reason == "Too expensive" and deal.closed_at is not None
    deal = deal_move(actor=manager, deal=deal, stage=stages["New"])
    assert deal.closed_at is None


def test_custom_required_field_per_pipeline(admin_user, manager, pipeline, stages, client_party):
    custom_field_create(
        actor=admin_user,
        data={"entity": "crm.deal", "context": pipeline.custom_context, "code": "invoice_number", "label": "Invoice number", "field_type": "text"},
    )
    from fabrika.crm.services_pipelines import stage_update

    stage_update(actor=admin_user, stage=stages["Proposal"], data={"required_fields": ["amount", "custom.invoice_number"]})
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party, amount="5")
    with pytest.raises(RequiredFieldsMissing) as error:
        deal_move(actor=manager, deal=deal, stage=stages["Proposal"])
    assert error.value.values["missing"] == ["Invoice number"]
    deal = deal_update(actor=manager, deal=deal, data={"custom": {"invoice_number": "INV-7"}})
    deal = deal_move(actor=manager, deal=deal, stage=stages["Proposal"])
    assert deal.stage == stages["Proposal"]
    assert deal.custom == {"invoice_number": "INV-7"}


def test_update_cannot_empty_a_field_the_current_stage_requires(manager, pipeline, stages, client_party):
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party, amount="5", expected_close=dt.date(2026, 12, 1))
    deal_move(actor=manager, deal=deal, stage=stages["Negotiation"])
    with pytest.raises(RequiredFieldsMissing):
        deal_update(actor=manager, deal=deal, data={"amount": None})
    deal.refresh_from_db()
    assert deal.amount == Decimal("5.00")


def test_history_duration(manager, pipeline, stages, client_party):
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party)
    row = DealStageHistory.objects.get(deal=deal)
    assert row.duration_seconds(now=row.entered_at + dt.timedelta(hours=2)) == 7200
    assert row.duration_seconds(now=timezone.now()) >= 0
