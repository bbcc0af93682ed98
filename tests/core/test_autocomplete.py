"""AutocompleteSelect: the server lists matches in the user's scope; the widget renders only the chosen option."""

from __future__ import annotations

from django import forms
from django.urls import reverse

from fabrika.core.ui.autocomplete import AutocompleteSelect
from fabrika.parties.models import Counterparty


def _party(name: str, owner, **roles) -> Counterparty:
    return Counterparty.objects.create(name=name, responsible=owner, **roles)


def test_autocomplete_lists_matches_in_scope_with_role_filter(web_client, make_user):
    manager, other = make_user("Sales manager", username="m1"), make_user("Sales manager", username="m2")
    supplier = _party("Servo Supply", manager, is_supplier=True)
    _party("Servo School", manager, is_client=True)
    _party("Servo Foreign", other, is_supplier=True)  # another manager's: outside the scope
    url = reverse("core:autocomplete", args=["counterparties"])
    answer = web_client(manager).get(url, {"q": "servo", "roles": "supplier"})
    assert answer.status_code == 200
    assert answer.json() == [{"value": supplier.pk, "label": "Servo Supply"}]
    assert web_client(manager).get(url, {"q": "servo", "roles": "wizard"}).status_code == 422


def test_autocomplete_refuses_users_without_the_view_permission_and_unknown_sources(web_client, make_user):
    nobody = make_user("", username="nobody")
    assert web_client(nobody).get(reverse("core:autocomplete", args=["counterparties"]), {"q": "x"}).status_code == 403
    assert web_client(nobody).get(reverse("core:autocomplete", args=["spaceships"]), {"q": "x"}).status_code == 404


def test_products_source(web_client, make_user):
    from fabrika.catalog.models import Product, Unit

    unit = Unit.objects.create(code="pcs", name="Pieces")
    robot = Product.objects.create(sku="RB-1", name="Robot", stock_unit=unit, kind="finished")
    Product.objects.create(sku="RB-2", name="Robot arm", stock_unit=unit, kind="material")
    store = make_user("Storekeeper", username="store")
    answer = web_client(store).get(reverse("core:autocomplete", args=["products"]), {"q": "robot", "kinds": "finished"})
    assert answer.json() == [{"value": robot.pk, "label": "RB-1 · Robot"}]


def test_widget_renders_only_the_selected_option_and_validates_against_the_field_queryset(make_user):
    owner = make_user("Sales manager", username="owner")
    parties = [_party(f"Party {i}", owner, is_client=True) for i in range(30)]

    class Form(forms.Form):
        counterparty = forms.ModelChoiceField(queryset=Counterparty.objects.order_by("name"), widget=AutocompleteSelect("counterparties"))

    html = str(Form(initial={"counterparty": parties[7].pk})["counterparty"])
    assert html.count("<option") == 2  # the empty choice and the chosen one, not thirty
    assert f'value="{parties[7].pk}" selected' in html and "data-autocomplete-url" in html
    assert Form({"counterparty": parties[3].pk}).is_valid()
    assert not Form({"counterparty": 999999}).is_valid()


def test_use_autocomplete_on_an_existing_field_renders_the_chosen_label(make_user):
    from fabrika.core.ui.autocomplete import use_autocomplete

    owner = make_user("Sales manager", username="owner2")
    party = _party("Lyceum 30", owner, is_client=True)

    class Form(forms.Form):
        counterparty = forms.ModelChoiceField(queryset=Counterparty.objects.all())

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            use_autocomplete(self.fields["counterparty"], "counterparties")

    html = str(Form({"counterparty": str(party.pk)})["counterparty"])
    assert f'<option value="{party.pk}" selected>Lyceum 30</option>' in html
