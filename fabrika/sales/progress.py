"""An order's status follows its lines: done when every line is shipped in full and what the client kept (shipped − returned) is invoiced,
back to confirmed when a cancellation reopens a line. Shipment, return and invoice services call it at the end of
their transaction."""

from __future__ import annotations

from .models import OrderStatus, SalesOrder, SalesOrderLine


def order_progress_refresh(*, order_id: int, order: SalesOrder | None = None, lines: list[SalesOrderLine] | None = None) -> SalesOrder:
    """`order` and `lines`: the caller's locked order and its up-to-date lines, when it has them (no re-read)."""
    if order is None:
        order = SalesOrder.objects.select_for_update().get(pk=order_id)
    if order.status not in (OrderStatus.CONFIRMED, OrderStatus.DONE):
        return order
    lines = lines if lines is not None else list(order.lines.all())
    status = order_progress_status(order, lines)
    if status != order.status:
        order.status = status
        order.save(update_fields=["status", "updated_at"])
    return order


def order_progress_status(order: SalesOrder, lines: list[SalesOrderLine]) -> str:
    """The status the order's lines call for (a batch service writes it with the rest of its rows)."""
    if order.status not in (OrderStatus.CONFIRMED, OrderStatus.DONE):
        return order.status
    complete = bool(lines) and all(
        line.shipped_quantity >= line.quantity and line.invoiced_quantity >= line.shipped_quantity - line.returned_quantity
        for line in lines
    )
    return OrderStatus.DONE if complete else OrderStatus.CONFIRMED
