from __future__ import annotations

import pytest

from fabrika.core.demo import CORE_LOADERS, demo_load
from fabrika.crm.demo import load_pipelines
from fabrika.crm.models import Deal, Pipeline

pytestmark = pytest.mark.django_db


def test_demo_pipelines_load_once(roles):
    demo_load(loaders=(*CORE_LOADERS, load_pipelines))
    procurement = Pipeline.objects.get(name="Procurement")
    names = list(procurement.stages.order_by("order").values_list("name", flat=True))
    assert len(names) == 13
    assert names[0] == "Request formed" and names[-1] == "Accompanying documents sent"
    signed = procurement.stages.get(name="Invoice signed")
    assert signed.required_fields == ["custom.invoice_number", "custom.invoice_date", "custom.invoice_scan"]
    deals = Deal.objects.count()
    assert deals >= 1
    prepaid = Deal.objects.filter(pipeline=procurement).first()
    assert prepaid is None or prepaid.custom.get("full_prepayment") is True
    demo_load(loaders=(*CORE_LOADERS, load_pipelines))
    assert Deal.objects.count() == deals
    assert Pipeline.objects.count() == 2
