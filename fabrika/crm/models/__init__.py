"""CRM models, split by sub-domain (pipelines and deals, leads, activities); import them from here."""

from .activities import *  # noqa: F403
from .leads import *  # noqa: F403
from .pipelines import *  # noqa: F403
