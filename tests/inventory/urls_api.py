"""Until the lead mounts the catalog and inventory routers in fabrika/api.py, tests serve them from a test-only API
with the same authentication and the same error mapping, under the same paths."""

from __future__ import annotations

from django.urls import path
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError

from fabrika import api as main
from fabrika.catalog.api import router as catalog_router
from fabrika.core.errors import DomainError
from fabrika.inventory.api import router as inventory_router
from fabrika.urls import urlpatterns as main_patterns

test_api = NinjaAPI(title="inventory tests", version="test", urls_namespace="inventory-tests", auth=[main.TokenAuth()])
test_api.add_exception_handler(DomainError, main._domain_error)
test_api.add_exception_handler(NinjaValidationError, main._validation_error)
test_api.add_router("/catalog", catalog_router)
test_api.add_router("/inventory", inventory_router)

urlpatterns = [path("api/v1/", test_api.urls), *main_patterns]
