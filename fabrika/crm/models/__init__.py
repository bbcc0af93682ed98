"""CRM models, split by sub-domain (pipelines and deals, leads, activities, sales plans); import them from here."""

from .activities import *  # noqa: F403
from .leads import *  # noqa: F403
from .pipelines import *  # noqa: F403
from .plans import *  # noqa: F403
