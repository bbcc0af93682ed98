"""Payment pages: the list (UI kit: filters, sort, export), the new-payment form, the card with its allocations,
posting (automatic allocation or all as an advance), allocating an advance to an invoice, undoing an allocation,
cancelling; a bank statement posted as many payments at once (upload, preview, post); and the payments sections
included by the invoice and order cards. Views are thin: the services write,
the selectors read."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fabrika.core.errors import DomainError, NotFound
from fabrika.core.importer import MAX_FILE_BYTES
from fabrika.core.permissions import can, get_scoped
from fabrika.core.ui.cards import CardField, RelatedList, RelatedRow, display, field_labels, record_timeline
from fabrika.core.ui.forms import apply_errors
from fabrika.core.ui.lists import Column, Filter, ListConfig
from fabrika.core.ui.views import list_view

from . import batch_payments
from . import selectors_payments as selectors
from . import services_payments as services
from .forms_payments import (
    STATEMENT_FIELDS,
    AllocateForm,
    CancelForm,
    PaymentForm,
    PostForm,
    StatementLine,
    StatementPostForm,
    StatementUploadForm,
    read_statement,
)
from .models import Direction, DocumentStatus, Invoice, Payment, PaymentAllocation, PaymentMethod

PAYMENT_ENTITY = "finance.payment"


def _require(request, model, action: str) -> None:
    if not can(request.user, model, action):
        raise DjangoPermissionDenied


def amount(value: Decimal | None) -> str:
    if value is None:
        return ""
    return formats.number_format(value, 2, use_l10n=True, force_grouping=True)


def _errors_text(error: DomainError) -> str:
    messages_ = [message for items in error.field_errors().values() for message in items]
    return "; ".join(messages_) or error.message


def _payment(request, pk: int) -> Payment:
    try:
        return selectors.payment_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


def payment_url(payment: Payment) -> str:
    return reverse("finance:payment_detail", args=[payment.pk])


def invoice_url(invoice) -> str:
    """The invoice's card (finance invoices pages), or "" when those pages are not installed."""
    try:
        return reverse("finance:invoice_detail", args=[invoice.pk])
    except NoReverseMatch:
        return ""


def _title(payment: Payment) -> str:
    kind = _("Payment received") if payment.direction == Direction.OUTGOING else _("Payment made")
    return f"{kind} {payment.number or _('(draft)')}"


def _counterparty_choices(actor):
    ids = selectors.payment_list_for_user(actor).order_by().values("counterparty_id").distinct()
    from fabrika.parties.models import Counterparty

    return [(party.pk, party.name) for party in Counterparty.objects.filter(pk__in=ids).order_by("name")]


PAYMENT_LIST = ListConfig(
    entity=PAYMENT_ENTITY,
    model=Payment,
    title=gettext_lazy("Payments"),
    queryset=lambda actor: selectors.payment_list_for_user(actor),
    url_name="finance:payment_list",
    create_url_name="finance:payment_create",
    detail_url=payment_url,
    columns=(
        Column("number", gettext_lazy("Number"), value=lambda p: p.number or _("(draft)"), sort="number", link=True),
        Column("date", gettext_lazy("Date"), value=lambda p: formats.date_format(p.date, "SHORT_DATE_FORMAT"), export=lambda p: p.date,
               sort="date"),
        Column("direction", gettext_lazy("Direction"), value=lambda p: p.get_direction_display(), sort="direction"),
        Column("status", gettext_lazy("Status"), value=lambda p: p.get_status_display(), sort="status"),
        Column("counterparty", gettext_lazy("Counterparty"), value=lambda p: p.counterparty.name, sort="counterparty__name"),
        Column("method", gettext_lazy("Method"), value=lambda p: p.get_method_display(), sort="method"),
        Column("amount", gettext_lazy("Amount"), value=lambda p: f"{amount(p.amount)} {p.currency}", export=lambda p: p.amount, sort="amount"),
        Column("allocated_amount", gettext_lazy("Allocated"), value=lambda p: amount(p.allocated_amount), export=lambda p: p.allocated_amount,
               sort="allocated_amount"),
        Column("unallocated", gettext_lazy("Advance"), value=lambda p: amount(p.unallocated_amount) if p.status == DocumentStatus.POSTED else "",
               export=lambda p: p.unallocated_amount if p.status == DocumentStatus.POSTED else None),
        Column("currency", gettext_lazy("Currency"), sort="currency"),
        Column("reference", gettext_lazy("Bank reference"), sort="reference"),
        Column("purpose", gettext_lazy("Purpose")),
        Column("order", gettext_lazy("Sales order"), value=lambda p: p.order.number if p.order_id else ""),
    ),
    default_columns=("number", "date", "direction", "status", "counterparty", "method", "amount", "allocated_amount", "unallocated"),
    default_sort="-date",
    search_fields=("number", "reference", "purpose", "counterparty__name"),
    filters=(
        Filter("direction", gettext_lazy("Direction"), lookup="direction", choices=Direction.choices),
        Filter("status", gettext_lazy("Status"), lookup="status", choices=DocumentStatus.choices),
        Filter("method", gettext_lazy("Method"), lookup="method", choices=PaymentMethod.choices),
        Filter("counterparty", gettext_lazy("Counterparty"), lookup="counterparty_id", choices=_counterparty_choices),
        Filter("date", gettext_lazy("Date"), lookup="date", kind="date_range"),
    ),
)


@login_required
def payment_list(request):
    _require(request, Payment, "view")
    can_post_statement = can(request.user, Payment, "add") and can(request.user, Payment, "change")
    return list_view(request, PAYMENT_LIST, template="finance/payment_list.html", context={"can_post_statement": can_post_statement})


# ----------------------------------------------------------------------------------------------- bank statement


def _statement_errors(ready: list[StatementLine], errors: dict[str, list[str]]) -> None:
    """The batch service's errors (`rows.N.<field>`) beside the lines they concern, with the field's label."""
    labels = {item.name: str(item.label) for item in STATEMENT_FIELDS} | {"counterparty_id": str(_("Counterparty"))}
    for key, texts in errors.items():
        parts = key.split(".", 2)
        if parts[0] == "rows" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(ready):
            line, name = ready[int(parts[1])], parts[2] if len(parts) > 2 else ""
        else:
            line, name = ready[0], key
        label = str(_("Invoice")) if name.startswith("allocations") else labels.get(name, name)
        line.errors.extend(f"{label}: {text}" if label and label != "__all__" else text for text in texts)


def _statement_check(request, lines: list[StatementLine], *, post: bool) -> list[Payment]:
    """Post the statement's rows with the batch service when asked and every row could be read; else (or when it is
    refused) check them with its dry run. Each line gets its errors and its planned allocation. Returns the posted
    payments ([] when nothing was posted)."""
    ready = [line for line in lines if line.data is not None]
    if not ready:
        return []
    rows = [line.data for line in ready]
    refusal = None
    if post and len(ready) == len(lines):
        try:
            return batch_payments.payments_post_batch(actor=request.user, rows=rows)
        except DomainError as error:
            refusal = error
    try:
        planned = batch_payments.payments_check_batch(actor=request.user, rows=rows)
    except DomainError as error:
        _statement_errors(ready, error.field_errors() or {"__all__": [error.message]})
        return []
    for line, row in zip(ready, planned, strict=True):
        _statement_errors(ready, row.errors)
        if not row.errors:
            parts = [f"{invoice.number}: {amount(value)}" for invoice, value in row.plan]
            if row.advance:
                parts.append(_("advance %(amount)s") % {"amount": amount(row.advance)})
            line.plan = "; ".join(parts)
    if refusal is not None and not any(line.errors for line in ready):  # refused for a reason the dry run does not see
        _statement_errors(ready, refusal.field_errors() or {"__all__": [refusal.message]})
    return []


@login_required
def payment_statement(request):
    """Upload a bank statement (CSV), check every row (a dry run of the batch service), then post them all at once;
    nothing is written unless every row can be posted."""
    _require(request, Payment, "add")
    _require(request, Payment, "change")
    upload_form = StatementUploadForm(request.POST or None, request.FILES or None) if "content" not in request.POST else StatementUploadForm()
    post_form, lines, errors = None, None, []
    content = file_name = None
    if "content" in request.POST:  # "Post N payments" (or the same file checked again): the file comes back from the preview
        carried = StatementPostForm(request.POST)
        if carried.is_valid():
            try:
                content, file_name = carried.file_content(), carried.cleaned_data["file_name"]
            except forms.ValidationError:
                pass
        if content is None:
            errors.append(_("Upload the statement again"))
    elif request.method == "POST" and upload_form.is_valid():
        upload = upload_form.cleaned_data["file"]
        content, file_name = upload.read(MAX_FILE_BYTES + 1), upload.name
    if content is not None:
        try:
            lines = read_statement(actor=request.user, content=content, file_name=file_name)
        except DomainError as error:
            errors.append(_errors_text(error))
        if lines is not None and len(lines) > batch_payments.MAX_ROWS:
            errors.append(_("At most %(max)d payments at once: split the statement") % {"max": batch_payments.MAX_ROWS})
            lines = None
        if lines is not None:
            posted = _statement_check(request, lines, post="post" in request.POST)
            if posted:
                messages.success(request, _("Posted %(count)d payments: %(first)s – %(last)s.") % {
                    "count": len(posted), "first": posted[0].number, "last": posted[-1].number})
                return redirect(reverse("finance:payment_list"))
            post_form = StatementPostForm.carry(content, file_name)
    errors_count = sum(1 for line in lines or [] if line.errors)
    context = {
        "upload_form": upload_form, "post_form": post_form, "lines": lines, "errors": errors, "errors_count": errors_count,
        "back_url": reverse("finance:payment_list"), "max_rows": batch_payments.MAX_ROWS,
    }
    refused = bool(errors or errors_count or upload_form.errors)
    return render(request, "finance/payment_statement.html", context, status=422 if refused else 200)


@login_required
def payment_create(request):
    _require(request, Payment, "add")
    initial = {}
    for name in ("counterparty", "order", "direction", "amount"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    form = PaymentForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            payment = services.payment_create(actor=request.user, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Draft payment saved. Check it and post it."))
            return redirect(payment_url(payment))
    context = {"form": form, "form_title": _("New payment"), "cancel_url": reverse("finance:payment_list")}
    return render(request, "finance/payment_form.html", context, status=422 if form.errors else 200)


@login_required
def payment_edit(request, pk: int):
    _require(request, Payment, "change")
    payment = _payment(request, pk)
    if payment.status != DocumentStatus.DRAFT:
        messages.error(request, _("Only a draft payment can be edited"))
        return redirect(payment_url(payment))
    initial = {
        "direction": payment.direction, "method": payment.method, "date": payment.date, "counterparty": payment.counterparty_id,
        "amount": payment.amount, "currency": payment.currency, "exchange_rate": payment.exchange_rate, "order": payment.order_id,
        "reference": payment.reference, "purpose": payment.purpose,
    }
    form = PaymentForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_update(actor=request.user, payment_id=payment.pk, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Payment saved."))
            return redirect(payment_url(payment))
    context = {"form": form, "form_title": _title(payment), "cancel_url": payment_url(payment)}
    return render(request, "finance/payment_form.html", context, status=422 if form.errors else 200)


def _allocation_rows(payment: Payment, user) -> list[dict]:
    can_change = payment.status == DocumentStatus.POSTED and can(user, Payment, "change")
    return [
        {"allocation": allocation, "invoice": allocation.invoice, "invoice_url": invoice_url(allocation.invoice), "date": allocation.date, "amount": amount(allocation.amount),
         "exchange_difference": _exchange_difference(allocation.exchange_difference), "can_undo": can_change and allocation.is_active}
        for allocation in selectors.payment_allocations(payment)
    ]


def _exchange_difference(value: Decimal) -> str:
    """An allocation's exchange difference in the base currency, as a gain or a loss; empty when there is none."""
    if not value:
        return ""
    return (_("gain %(amount)s") if value > 0 else _("loss %(amount)s")) % {"amount": amount(abs(value))}


def _card_fields(payment: Payment) -> list[CardField]:
    fields = [
        CardField(_("Direction"), payment.get_direction_display()),
        CardField(_("Status"), payment.get_status_display()),
        CardField(_("Number"), display(payment.number)),
        CardField(_("Date"), formats.date_format(payment.date, "SHORT_DATE_FORMAT")),
        CardField(_("Counterparty"), payment.counterparty.name, url=reverse("finance:settlement_detail", args=[payment.counterparty_id])),
        CardField(_("Method"), payment.get_method_display()),
        CardField(_("Amount"), f"{amount(payment.amount)} {payment.currency}"),
    ]
    if payment.exchange_rate != 1:
        fields.append(CardField(_("Exchange rate"), str(payment.exchange_rate)))
    if payment.status == DocumentStatus.POSTED:
        fields += [CardField(_("Allocated"), amount(payment.allocated_amount)), CardField(_("Advance"), amount(payment.unallocated_amount))]
    if payment.order_id:
        fields.append(CardField(_("Sales order"), payment.order.number or str(payment.order)))
    fields += [
        CardField(_("Bank reference"), display(payment.reference)),
        CardField(_("Purpose"), display(payment.purpose)),
        CardField(_("Author"), str(payment.author)),
    ]
    if payment.posted_at:
        fields.append(CardField(_("Posted"), formats.date_format(payment.posted_at, "SHORT_DATETIME_FORMAT")))
    if payment.cancellation_date:
        fields.append(CardField(_("Cancellation date"), formats.date_format(payment.cancellation_date, "SHORT_DATE_FORMAT")))
    return fields


def _journal_list(payment: Payment) -> RelatedList:
    from fabrika.ledger.models import JournalLine

    allocation_ids = list(payment.allocations.values_list("pk", flat=True))
    lines = (
        JournalLine.objects.filter(
            Q(entry__source_type="finance.payment", entry__source_id=payment.pk)
            | Q(entry__source_type="finance.paymentallocation", entry__source_id__in=allocation_ids)
        ).select_related("entry", "account").order_by("entry__date", "entry_id", "id")
    )
    return RelatedList(
        title=_("Journal entries"), headers=[_("Date"), _("Account"), _("Debit"), _("Credit"), _("Memo")],
        rows=[RelatedRow([formats.date_format(line.date, "SHORT_DATE_FORMAT"), str(line.account), amount(line.debit) if line.debit else "",
                          amount(line.credit) if line.credit else "", line.entry.memo]) for line in lines],
        empty_text=_("Nothing posted yet."),
    )


def _detail_context(request, payment: Payment, *, allocate_form: AllocateForm | None = None, post_form: PostForm | None = None) -> dict:
    can_change = can(request.user, Payment, "change")
    allocation_rows = _allocation_rows(payment, request.user)
    open_invoices = selectors.open_invoices_for_payment(payment) if payment.status == DocumentStatus.POSTED and payment.unallocated_amount > 0 else []
    if allocate_form is None and open_invoices:
        first = open_invoices[0]
        allocate_form = AllocateForm(invoices=open_invoices, initial={"invoice": first.pk, "amount": min(first.open_amount, payment.unallocated_amount)})
    elif allocate_form is not None:
        allocate_form.fields["invoice"].choices = AllocateForm(invoices=open_invoices).fields["invoice"].choices
    return {
        "object": payment,
        "payment": payment,
        "card_title": _title(payment),
        "card_subtitle": payment.get_status_display(),
        "card_fields": _card_fields(payment),
        "related_lists": [_journal_list(payment)] if payment.status != DocumentStatus.DRAFT else [],
        "timeline": record_timeline(payment, labels=field_labels(Payment, PAYMENT_ENTITY)),
        "back_url": reverse("finance:payment_list"),
        "allocation_rows": allocation_rows,
        "has_exchange_differences": any(row["exchange_difference"] for row in allocation_rows),
        "can_post": payment.status == DocumentStatus.DRAFT and can_change,
        "can_cancel": payment.status != DocumentStatus.CANCELLED and can_change,
        "can_allocate": bool(open_invoices) and can_change,
        "post_form": post_form or PostForm(),
        "allocate_form": allocate_form,
        "cancel_form": CancelForm(),
    }


@login_required
def payment_detail(request, pk: int):
    _require(request, Payment, "view")
    payment = _payment(request, pk)
    return render(request, "finance/payment_detail.html", _detail_context(request, payment))


@login_required
@require_POST
def payment_post(request, pk: int):
    _require(request, Payment, "change")
    payment = _payment(request, pk)
    form = PostForm(request.POST)
    if not form.is_valid():
        return render(request, "finance/payment_detail.html", _detail_context(request, payment, post_form=form), status=422)
    try:
        posted = services.payment_post(actor=request.user, payment_id=payment.pk, auto_allocate=form.cleaned_data["allocation"] == "auto")
    except DomainError as error:
        messages.error(request, _("Not posted: %(error)s") % {"error": _errors_text(error)})
    else:
        messages.success(request, _("Posted as %(number)s; allocated %(allocated)s, advance %(advance)s.") % {
            "number": posted.number, "allocated": amount(posted.allocated_amount), "advance": amount(posted.unallocated_amount)})
    return redirect(payment_url(payment))


@login_required
@require_POST
def payment_allocate(request, pk: int):
    _require(request, Payment, "change")
    payment = _payment(request, pk)
    form = AllocateForm(request.POST, invoices=selectors.open_invoices_for_payment(payment))
    if form.is_valid():
        try:
            services.payment_allocate(actor=request.user, payment_id=payment.pk, invoice_id=form.cleaned_data["invoice"],
                                      amount=form.cleaned_data["amount"], date=form.cleaned_data.get("date"))
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Allocated."))
            return redirect(payment_url(payment))
    payment = _payment(request, pk)
    return render(request, "finance/payment_detail.html", _detail_context(request, payment, allocate_form=form), status=422)


@login_required
@require_POST
def payment_unallocate(request, pk: int, allocation_pk: int):
    _require(request, Payment, "change")
    payment = _payment(request, pk)
    if not PaymentAllocation.objects.filter(pk=allocation_pk, payment=payment).exists():
        raise Http404
    try:
        services.allocation_cancel(actor=request.user, allocation_id=allocation_pk)
    except DomainError as error:
        messages.error(request, _errors_text(error))
    else:
        messages.success(request, _("Allocation undone: the amount is an advance again."))
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/") else payment_url(payment))


@login_required
def payment_cancel(request, pk: int):
    _require(request, Payment, "change")
    payment = _payment(request, pk)
    form = CancelForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_cancel(actor=request.user, payment_id=payment.pk, date=form.cleaned_data.get("date"))
        except DomainError as refused:
            apply_errors(form, refused)
        else:
            messages.success(request, _("Payment cancelled."))
            return redirect(payment_url(payment))
    context = {"object": payment, "title": _title(payment), "form": form, "error": error, "posted": payment.status == DocumentStatus.POSTED}
    return render(request, "finance/payment_cancel.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def invoice_apply_advances(request, invoice_pk: int):
    """From the invoice card: pay the invoice from the counterparty's unallocated payments, oldest first."""
    _require(request, Payment, "change")
    try:
        invoice = get_scoped(Invoice.objects.all(), request.user, invoice_pk, responsible_field="counterparty__responsible")
    except NotFound:
        raise Http404
    try:
        created = services.invoice_apply_advances(actor=request.user, invoice_id=invoice.pk)
    except DomainError as error:
        messages.error(request, _errors_text(error))
    else:
        total = sum((allocation.amount for allocation in created), Decimal(0))
        messages.success(request, _("Advances applied: %(amount)s.") % {"amount": amount(total)})
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else reverse("finance:settlement_detail", args=[invoice.counterparty_id]))
