from __future__ import annotations

import pytest

from fabrika.core.errors import NotFound, ValidationError
from fabrika.core.models import User
from fabrika.core.records import entity_of, model_for_entity, record_for_user, record_url, responsible_id_of
from fabrika.parties.models import Counterparty


def test_entity_of_names_app_and_model(make_counterparty, manager):
    # given a counterparty
    counterparty = make_counterparty(manager)
    # then its entity is "app_label.model_name", for the instance and the class alike
    assert entity_of(counterparty) == "parties.counterparty"
    assert entity_of(Counterparty) == "parties.counterparty"
    assert model_for_entity("parties.counterparty") is Counterparty
    assert responsible_id_of(counterparty) == manager.pk
    assert record_url(counterparty) == f"/parties/counterparties/{counterparty.pk}/"  # its get_absolute_url()


@pytest.mark.parametrize("entity", ["parties", "parties.nothing", "", "a.b.c"])
def test_unknown_entity_is_a_validation_error_naming_entity(db, entity):
    with pytest.raises(ValidationError) as error:
        model_for_entity(entity)
    assert list(error.value.errors) == ["entity"]
    assert error.value.errors["entity"][0].startswith(f"Unknown record type '{entity}'")


def test_record_for_user_gives_own_record(make_counterparty, manager):
    counterparty = make_counterparty(manager)
    assert record_for_user(manager, "parties.counterparty", str(counterparty.pk)) == counterparty


def test_record_outside_scope_is_not_found(make_counterparty, manager, other_manager):
    # given Anna's counterparty
    counterparty = make_counterparty(manager)
    # when Boris (own scope) asks for it, then it does not exist for him
    with pytest.raises(NotFound) as error:
        record_for_user(other_manager, "parties.counterparty", counterparty.pk)
    assert error.value.status == 404


def test_department_head_sees_records_of_the_department(make_user, make_counterparty, manager):
    from fabrika.core.models import Department

    # given a sales department headed by a head of sales, with Anna in it
    head = make_user("Head of sales", username="head")
    sales = Department.objects.create(name="Sales", head=head)
    manager.department = sales
    manager.save()
    counterparty = make_counterparty(manager)
    # then the head may open Anna's record
    assert (
        record_for_user(User.objects.get(pk=head.pk), "parties.counterparty", counterparty.pk) == counterparty
    )


def test_role_without_view_permission_gets_not_found(make_user, make_counterparty, manager):
    # given a user whose role grants nothing on counterparties
    nobody = make_user("", username="nobody")
    counterparty = make_counterparty(manager)
    with pytest.raises(NotFound):
        record_for_user(nobody, "parties.counterparty", counterparty.pk)


@pytest.mark.parametrize("object_id", ["abc", "", "999999", None])
def test_bad_or_missing_id_is_not_found(admin_user, object_id):
    with pytest.raises(NotFound):
        record_for_user(admin_user, "parties.counterparty", object_id)


def test_record_without_responsible_needs_only_view_permission(admin_user, make_user):
    # given a department (no responsible field): an administrator sees it, a sales manager has no permission
    from fabrika.core.models import Department

    department = Department.objects.create(name="Workshop")
    assert record_for_user(admin_user, "core.department", department.pk) == department
    with pytest.raises(NotFound):
        record_for_user(make_user("Sales manager"), "core.department", department.pk)
