"""The deal follows its sales order: when the order reaches a point (confirmed, shipped, invoiced, paid), the deal moves
to the stage of its pipeline whose `order_event` names that point — if the pipeline has one and the deal is elsewhere.

A move the deal's stage refuses (required fields empty, a lost stage without a reason) does not undo the order's
change: it is written to the order's audit trail with the reason, and the manager moves the deal by hand.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from fabrika.core import audit
from fabrika.core.audit import AuditAction
from fabrika.core.errors import DomainError
from fabrika.crm.models import Stage, StageOrderEvent
from fabrika.crm.services_pipelines import deal_move

from .models import SalesOrder, SalesOrderLine

ORDER_EVENTS = frozenset(value for value in StageOrderEvent.values if value)


def order_deal_follow(*, actor, order: SalesOrder, event: str) -> Stage | None:
    """Move the order's deal to the stage that follows `event`; returns the stage it moved to, None when nothing moved."""
    if event not in ORDER_EVENTS:
        raise ValueError(f"Unknown order event {event!r}")
    if order.deal_id is None:
        return None
    deal = order.deal
    stage = Stage.objects.filter(pipeline_id=deal.pipeline_id, order_event=event).order_by("order", "id").first()
    if stage is None or stage.pk == deal.stage_id:
        return None
    try:
        with transaction.atomic():
            deal_move(actor=actor, deal=deal, stage=stage, reason=_("Order %(number)s: %(event)s") % {
                "number": order.number, "event": StageOrderEvent(event).label,
            })
    except DomainError as error:
        audit.record(
            actor=actor, action=AuditAction.UPDATE, target=order,
            message=_("The deal %(deal)s was not moved to “%(stage)s”: %(reason)s") % {"deal": deal.number, "stage": stage.name, "reason": error.message},
        )
        return None
    return stage


def order_follow_progress(
    *, actor, order_id: int, event: str, order: SalesOrder | None = None, lines: list[SalesOrderLine] | None = None
) -> Stage | None:
    """After a shipment ("order_shipped") or an invoice ("order_invoiced") is posted: the deal follows once the whole
    order is shipped / invoiced. "order_paid" is decided by finance (it knows the payments) and calls
    order_deal_follow itself. `order` and `lines`: the caller's up-to-date rows, when it has them (no re-read)."""
    field = {"order_shipped": "shipped_quantity", "order_invoiced": "invoiced_quantity"}[event]
    if order is None:
        order = SalesOrder.objects.select_related("deal").get(pk=order_id)
    if order.deal_id is None:
        return None
    lines = lines if lines is not None else list(order.lines.all())
    if not lines or any(getattr(line, field) < line.quantity for line in lines):
        return None
    return order_deal_follow(actor=actor, order=order, event=event)
