"""Confirm many draft sales orders at once ("Confirm" on the order list, POST /api/v1/sales/orders/batch/confirm, W1):
for each order exactly what sales_order_confirm does — the same refusals, credit rule, reservations, audit row, event
and deal following — in one transaction, each table read and written once for the whole batch. One refused order
refuses the batch; the error names it as `orders.<index>.<field>` (its index in `order_ids`) with its number.
Rules in docs/design/sales.md, "Batch confirmation"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fabrika.core import audit, events
from fabrika.core.audit import AuditAction
from fabrika.core.db import batch_gc, column_in, update_many
from fabrika.core.errors import DomainError, NotFound, ValidationError
from fabrika.core.models import User
from fabrika.crm.models import Deal
from fabrika.inventory.reservations import reservations_place_many
from fabrika.parties.models import Counterparty

from .credit import credit_checks
from .deals import order_deal_follow
from .models import OrderStatus, SalesOrder, SalesOrderLine
from .services_orders import (
    CONFIRMED_EVENT,
    _payload,
    confirm_apply,
    confirm_credit,
    confirm_ready,
    ensure_transition,
    plan_reservations,
)

MAX_BATCH = 500


def clean_order_ids(order_ids: Any) -> list[int]:
    """The ids as given (their positions name the orders in errors): 1 to MAX_BATCH distinct integers."""
    if not isinstance(order_ids, list | tuple) or not order_ids:
        raise ValidationError({"order_ids": [_("Choose at least one order")]})
    if len(order_ids) > MAX_BATCH:
        raise ValidationError({"order_ids": [_("At most %(limit)d orders at once") % {"limit": MAX_BATCH}]})
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for index, value in enumerate(order_ids):
        if isinstance(value, bool) or not isinstance(value, int):
            errors[f"order_ids.{index}"] = [_("Enter an order id")]
        elif value in seen:
            errors[f"order_ids.{index}"] = [_("Order %(id)s is listed twice") % {"id": value}]
        else:
            seen.add(value)
    if errors:
        raise ValidationError(errors)
    return list(order_ids)


def _named(error: DomainError, *, index: int, order: SalesOrder, field: str) -> DomainError:
    """The single service's error about the order at `index`: the same kind and code, its fields under
    `orders.<index>.` (`field` where it names none) and its message led by the order's number."""
    prefix = f"orders.{index}."
    lead = _("Order %(number)s") % {"number": order.number}
    values = {**error.values, "order_id": order.pk, "index": index}
    if isinstance(error, ValidationError):
        return ValidationError(
            {prefix + (name if name != "__all__" else field): [f"{lead}: {message}" for message in messages] for name, messages in error.errors.items()},
            **values,
        )
    return type(error)(f"{lead}: {error.message}", code=error.code, field=prefix + (error.field or field), **values)


@batch_gc()
def sales_orders_confirm(*, actor: User, order_ids: Sequence[int], override_credit_limit: bool = False) -> list[SalesOrder]:
    """Confirm these drafts (sales_order_confirm for each, as if one after another in id order: an order's credit check
    counts the client's orders before it in the batch, and it reserves what they left). Returns the orders, id order."""
    ids = clean_order_ids(order_ids)
    index_of = {order_id: index for index, order_id in enumerate(ids)}
    with transaction.atomic():
        # documents by id, then what they touch: the clients by id, then the stock balances in their global order. Only
        # the orders' own rows here (OF self): clients locked along with orders could wait in a cycle with another batch
        orders = list(
            SalesOrder.objects.select_for_update(of=("self",)).filter(column_in(SalesOrder, "id", ids)).select_related("counterparty").order_by("pk")
        )
        if len(orders) != len(ids):
            found = {order.pk for order in orders}
            missing = next(order_id for order_id in ids if order_id not in found)
            raise NotFound(_("Sales order %(id)s not found") % {"id": missing}, field=f"orders.{index_of[missing]}", order_id=missing)
        lines: dict[int, list[SalesOrderLine]] = {order.pk: [] for order in orders}
        for line in SalesOrderLine.objects.filter(column_in(SalesOrderLine, "order_id", ids)).select_related("product").order_by("order_id", "position", "id"):
            lines[line.order_id].append(line)
        for order in orders:
            try:
                ensure_transition(order.status, OrderStatus.CONFIRMED)
                confirm_ready(order, lines[order.pk])
            except DomainError as error:
                raise _named(error, index=index_of[order.pk], order=order, field="status") from None
        list(Counterparty.objects.select_for_update().filter(pk__in={order.counterparty_id for order in orders}).order_by("pk").values_list("pk"))
        checks = credit_checks(orders, lines)
        changes: dict[int, dict[str, Any]] = {}
        for order in orders:
            try:
                changes[order.pk] = confirm_credit(actor=actor, order=order, check=checks[order.pk], override_credit_limit=override_credit_limit)
            except DomainError as error:
                raise _named(error, index=index_of[order.pk], order=order, field="override_credit_limit") from None
        plans = plan_reservations([(order, [(line, line.stock_quantity) for line in lines[order.pk]]) for order in orders])
        products = {line.product_id: line.product for order_lines in lines.values() for line in order_lines}
        try:
            reservations_place_many(actor=actor, groups=[(plan.order.number, plan.items, plan.serials) for plan in plans], products=products)
        except DomainError as error:  # the first order that reserves from the row (or the serial's order)
            order = next((
                plan.order for plan in plans
                if plan.order.number == error.values.get("reference") or any(item[0] == error.values.get("balance_id") for item in plan.items)
            ), orders[0])
            raise _named(error, index=index_of[order.pk], order=order, field="lines") from None
        messages: dict[int, str] = {}
        now = timezone.now()
        for plan in plans:
            order = plan.order
            messages[order.pk] = confirm_apply(actor=actor, order=order, lines=lines[order.pk], reserved=plan.reserved, changes=changes[order.pk])
            order.updated_at = now
        update_many([line for order in orders for line in lines[order.pk]], ["reserved_quantity"])
        update_many(orders, ["status", "confirmed_at", "confirmed_by", "credit_override_by", "updated_at"])
        audit.record_many(actor=actor, action=AuditAction.POST, entries=[(order, changes[order.pk], messages[order.pk]) for order in orders])
        events.record_events([(CONFIRMED_EVENT, order, _payload(order)) for order in orders])
        _deals_follow(actor=actor, orders=orders)
    return orders


def _deals_follow(*, actor: User, orders: list[SalesOrder]) -> None:
    """The deal of each order that has one follows it (one read of the deals; each move is the deal's own)."""
    with_deal = [order for order in orders if order.deal_id is not None]
    if not with_deal:
        return
    deals = Deal.objects.in_bulk({order.deal_id for order in with_deal})
    for order in with_deal:
        order.deal = deals[order.deal_id]
        order_deal_follow(actor=actor, order=order, event="order_confirmed")


__all__ = ["MAX_BATCH", "clean_order_ids", "sales_orders_confirm"]
