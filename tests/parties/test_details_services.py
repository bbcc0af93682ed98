"""Contacts, addresses, bank accounts, directories, roles and branches through the services."""

import pytest

from fabrika.core.errors import ValidationError
from fabrika.core.models import AuditEntry, OutboxEvent
from fabrika.parties.models import Address, BankAccount, Contact, Counterparty, Position, Segment, Tag
from fabrika.parties.services import (
    address_create,
    bank_account_create,
    contact_create,
    contact_update,
    counterparty_create,
    counterparty_update,
    directory_item_create,
)

pytestmark = pytest.mark.django_db


def test_contact_create_normalises_phone_and_email_and_makes_the_first_primary(org):
    position = directory_item_create(actor=org.director, model=Position, data={"name": "Director"})
    first = contact_create(actor=org.manager, counterparty=org.mine, name=" Ivan Petrov ", position=position, phone="8 (495) 765-43-21", email="Ivan@Example.COM")
    second = contact_create(actor=org.manager, counterparty=org.mine, name="Olga", position=str(position.pk))
    assert (first.name, first.phone, first.email, first.position, first.is_primary) == ("Ivan Petrov", "+74957654321", "ivan@example.com", position, True)
    assert second.is_primary is False
    contact_update(actor=org.manager, contact_id=second.pk, data={"is_primary": True})
    assert list(Contact.objects.filter(counterparty=org.mine, is_primary=True).values_list("name", flat=True)) == ["Olga"]
    assert AuditEntry.objects.filter(object_id=str(first.pk), content_type__model="contact", action="create").count() == 1
    assert OutboxEvent.objects.filter(aggregate="parties.contact", aggregate_id=str(first.pk), event_type="record.created").count() == 1


def test_contact_create_refuses_bad_values_and_saves_nothing(org):
    with pytest.raises(ValidationError) as error:
        contact_create(actor=org.manager, counterparty=org.mine, name="", phone="12", email="nope", position="999")
    assert set(error.value.errors) == {"name", "phone", "email", "position"}
    assert Contact.objects.count() == 0


def test_address_text_is_parsed_into_parts(org):
    address = address_create(actor=org.manager, counterparty=org.mine, data={"kind": "delivery", "raw": "420111, г. Казань, ул. Баумана, д. 10"})
    assert (address.kind, address.country, address.postcode, address.city, address.street, address.building) == (
        "delivery", "RU", "420111", "Казань", "ул. Баумана", "д. 10"
    )
    assert address.raw == "420111, г. Казань, ул. Баумана, д. 10"


def test_address_refuses_a_bad_russian_postcode(org):
    with pytest.raises(ValidationError) as error:
        address_create(actor=org.manager, counterparty=org.mine, data={"country": "RU", "city": "Kazan", "postcode": "4201"})
    assert error.value.errors == {"postcode": ["A Russian postcode has 6 digits"]}
    assert Address.objects.count() == 0


def test_bank_accounts_check_bic_and_account_and_keep_one_default(org):
    first = bank_account_create(actor=org.manager, counterparty=org.mine, data={"bank_name": "Sberbank", "bic": "044525225", "account": "4070 2810 0000 0000 0001", "correspondent_account": "30101810400000000225", "currency": "rub"})
    second = bank_account_create(actor=org.manager, counterparty=org.mine, data={"bank_name": "VTB", "bic": "044525187", "account": "40702810000000000002", "is_default": True})
    first.refresh_from_db()
    assert (first.account, first.currency, first.is_default, second.is_default) == ("40702810000000000001", "RUB", False, True)
    with pytest.raises(ValidationError) as error:
        bank_account_create(actor=org.manager, counterparty=org.mine, data={"bank_name": "X", "bic": "123", "account": "123456"})
    assert set(error.value.errors) == {"bic", "account"}
    assert BankAccount.objects.count() == 2


def test_roles_segments_tags_branch_and_pricing_codes(org):
    segment = directory_item_create(actor=org.director, model=Segment, data={"name": "Schools"})
    tag = directory_item_create(actor=org.director, model=Tag, data={"name": "VIP"})
    branch = counterparty_create(
        actor=org.manager,
        data={
            "name": "Robo Alpha Kazan", "roles": ["client", "point_of_sale"], "parent": org.mine.pk, "segments": [segment.pk],
            "tags": ["vip"], "price_type_code": "wholesale", "discount_group": "B", "kpp": "165501001",
        },
    )
    assert branch.roles == ["client", "point_of_sale"]
    assert (branch.parent, list(branch.segments.all()), list(branch.tags.all())) == (org.mine, [segment], [tag])
    assert (branch.price_type_code, branch.discount_group, branch.kpp, branch.country) == ("wholesale", "B", "165501001", "RU")
    assert list(Counterparty.objects.filter(is_point_of_sale=True)) == [branch]
    with pytest.raises(ValidationError) as error:
        counterparty_update(actor=org.manager, counterparty_id=org.mine.pk, data={"parent": branch.pk, "roles": ["boss"]})
    assert error.value.errors == {
        "roles": ["Must be some of: client, supplier, dealer, distributor, point_of_sale, carrier, service_provider"],
        "parent": ["A counterparty cannot be a branch of itself or of its own branch"],
    }


def test_spanish_and_armenian_tax_ids_follow_the_counterparty_country(org):
    spanish = counterparty_create(actor=org.manager, data={"name": "Plásticos Levante", "country": "es", "tax_id": "b58378431"})
    assert (spanish.country, spanish.tax_id) == ("ES", "B58378431")
    with pytest.raises(ValidationError) as error:
        counterparty_create(actor=org.manager, data={"name": "Yerevan Parts", "country": "AM", "tax_id": "123"})
    assert error.value.errors == {"tax_id": ["An Armenian TIN has 8 digits"]}


def test_directory_names_are_unique_ignoring_case(org):
    directory_item_create(actor=org.director, model=Position, data={"name": "Buyer"})
    with pytest.raises(ValidationError) as error:
        directory_item_create(actor=org.director, model=Position, data={"name": "buyer"})
    assert error.value.errors == {"name": ["“buyer” already exists"]}
