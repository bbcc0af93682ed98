"""Fixtures of the CRM pipelines tests: a sales pipeline with stages, counterparties and users in roles."""

from __future__ import annotations

import pytest

from fabrika.crm.models import Pipeline, Stage, StageKind
from fabrika.crm.services_pipelines import pipeline_create
from fabrika.parties.models import Counterparty


@pytest.fixture
def manager(make_user):
    return make_user("Sales manager", username="manager")


@pytest.fixture
def other_manager(make_user):
    return make_user("Sales manager", username="other")


@pytest.fixture
def head(make_user):
    return make_user("Head of sales", username="head")


@pytest.fixture
def client_party(db, manager):
    return Counterparty.objects.create(name="Robokids School", is_client=True, responsible=manager)


@pytest.fixture
def pipeline(admin_user) -> Pipeline:
    return pipeline_create(
        actor=admin_user,
        data={"name": "Sales", "purpose": "sales"},
        stages=[
            {"name": "New", "probability": 10, "color": "#0d6efd"},
            {"name": "Proposal", "probability": 50, "required_fields": ["amount"]},
            {"name": "Negotiation", "probability": 80, "required_fields": ["amount", "expected_close"]},
            {"name": "Won", "kind": StageKind.WON},
            {"name": "Lost", "kind": StageKind.LOST},
        ],
    )


@pytest.fixture
def stages(pipeline) -> dict[str, Stage]:
    return {stage.name: stage for stage in pipeline.stages.order_by("order")}
