"""The one error a job shows its user as its reason. Must never import numpy: the API function raises it."""

from __future__ import annotations


class ExplainError(Exception):
    """The model, the data and the request do not fit together; the message is the failed job's reason."""
