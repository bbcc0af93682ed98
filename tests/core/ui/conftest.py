import pytest

from tests.parties.factories import sales_org


@pytest.fixture
def org(make_user):
    return sales_org(make_user)
