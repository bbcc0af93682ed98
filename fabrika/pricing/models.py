"""Price types, price lists and discount rules (written by the pricing work)."""

from django.db import models  # noqa: F401
