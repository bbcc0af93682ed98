"""The chart of accounts and the double-entry journal.

Every posted business document writes one `JournalEntry` whose lines balance (sum of debits = sum of credits),
in the base currency, in the same transaction as the document (services.journal_post is the only writer).
Accounts that track counterparties (receivables, payables, advances) carry the counterparty on each line, so a
counterparty's balance is the sum of its lines on those accounts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 15, "decimal_places": 2}


class AccountKind(models.TextChoices):
    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    EQUITY = "equity", _("Equity")
    REVENUE = "revenue", _("Revenue")
    EXPENSE = "expense", _("Expense")


class Account(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=AccountKind.choices)
    # The role the posting rules find it by (receivables, inventory, ...); empty for accounts an administrator adds.
    key = models.CharField(_("system role"), max_length=40, null=True, blank=True, unique=True)
    tracks_counterparty = models.BooleanField(_("per counterparty"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("ledger:account_detail", args=[self.pk])


class JournalEntry(models.Model):
    date = models.DateField(_("date"))
    # What caused it: "<app>.<model>" and the row id, plus the document's number for people.
    source_type = models.CharField(_("source type"), max_length=60)
    source_id = models.PositiveBigIntegerField(_("source id"), null=True, blank=True)
    source_number = models.CharField(_("document"), max_length=60, blank=True)
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    reverses = models.ForeignKey(
        "self", verbose_name=_("reverses"), on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    total = models.DecimalField(_("amount"), default=0, **MONEY)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["source_type", "source_id"], name="journal_entry_source_idx"),
            models.Index(fields=["date", "id"], name="journal_entry_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.source_number or self.source_type} {self.total}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("ledger:entry_detail", args=[self.pk])


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, verbose_name=_("entry"), on_delete=models.CASCADE, related_name="lines")
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="lines")
    counterparty = models.ForeignKey(
        "parties.Counterparty", verbose_name=_("counterparty"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    date = models.DateField(_("date"))  # the entry's date, repeated so balances at a date need no join
    debit = models.DecimalField(_("debit"), default=0, **MONEY)
    credit = models.DecimalField(_("credit"), default=0, **MONEY)
    memo = models.CharField(_("memo"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["account", "date"], name="journal_line_account_date_idx"),
            models.Index(fields=["counterparty", "account", "date"], name="journal_line_party_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(debit__gte=0) & Q(credit__gte=0), name="journal_line_not_negative"),
            models.CheckConstraint(condition=Q(debit=0) | Q(credit=0), name="journal_line_one_side"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.debit or -self.credit}"
