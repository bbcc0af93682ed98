"""API of the access area, mounted at /api/v1/core: company settings, currencies and exchange rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Model
from ninja import Query, Router, Schema, Status

from . import selectors_access, services_access
from .models import CompanySettings, Currency, ExchangeRate
from .permissions import require
from .selectors import company_settings

router = Router(tags=["company"])


def _require(user, model: type[Model], action: str) -> None:
    """Model permissions granted through roles; staff and superusers may do everything here (as on the pages)."""
    if user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser):
        return
    require(user, model, action)


class CompanySettingsOut(Schema):
    name: str
    base_currency: str
    country: str
    time_zone: str
    fiscal_year_start_month: int
    default_valuation_method: str
    allow_negative_stock: bool


class CompanySettingsPatch(Schema):
    name: str | None = None
    base_currency: str | None = None
    country: str | None = None
    time_zone: str | None = None
    fiscal_year_start_month: int | None = None
    default_valuation_method: str | None = None
    allow_negative_stock: bool | None = None


class CurrencyOut(Schema):
    id: int
    code: str
    name: str
    symbol: str
    minor_unit: int


class CurrencyIn(Schema):
    code: str
    name: str = ""
    symbol: str = ""
    minor_unit: int | None = None


class ExchangeRateOut(Schema):
    id: int
    currency: str
    date: dt.date
    rate: Decimal
    nominal: int

    @staticmethod
    def resolve_currency(obj) -> str:
        return obj.currency.code


class ExchangeRateIn(Schema):
    date: dt.date
    rate: Decimal
    nominal: int = 1


class RateFilter(Schema):
    date_from: dt.date | None = None
    date_to: dt.date | None = None


class RateOnOut(Schema):
    currency: str
    date: dt.date
    rate: Decimal


@router.get("/company", response=CompanySettingsOut)
def company_get(request):
    _require(request.user, CompanySettings, "view")
    return company_settings()


@router.patch("/company", response=CompanySettingsOut)
def company_patch(request, payload: CompanySettingsPatch):
    _require(request.user, CompanySettings, "change")
    return services_access.company_settings_update(actor=request.user, data=payload.dict(exclude_unset=True))


@router.get("/currencies", response=list[CurrencyOut])
def currency_list(request):
    _require(request.user, Currency, "view")
    return list(selectors_access.currency_list())


@router.post("/currencies", response={201: CurrencyOut})
def currency_create(request, payload: CurrencyIn):
    _require(request.user, Currency, "add")
    return Status(201, services_access.currency_create(actor=request.user, data=payload.dict()))


@router.get("/currencies/{code}/rates", response=list[ExchangeRateOut])
def exchange_rate_list(request, code: str, filters: Query[RateFilter]):
    _require(request.user, ExchangeRate, "view")
    currency = selectors_access.currency_get(code=code)
    return list(selectors_access.exchange_rates_of(currency, date_from=filters.date_from, date_to=filters.date_to).select_related("currency"))


@router.post("/currencies/{code}/rates", response={201: ExchangeRateOut})
def exchange_rate_create(request, code: str, payload: ExchangeRateIn):
    _require(request.user, ExchangeRate, "add")
    currency = selectors_access.currency_get(code=code)
    return Status(201, services_access.exchange_rate_add(actor=request.user, currency_id=currency.pk, data=payload.dict()))


@router.get("/exchange-rate", response=RateOnOut)
def exchange_rate_on(request, currency: str, date: dt.date):
    """Units of the base currency for one unit of `currency` on `date` (the latest rate on or before it)."""
    _require(request.user, ExchangeRate, "view")
    rate = selectors_access.exchange_rate_on(currency_code=currency, on_date=date)
    return {"currency": currency.upper(), "date": date, "rate": rate}
