"""The default dataset: real, sourced, built into the store by ``citydip init``.

Each part is a builder module with a ``build(ctx)`` function; they run in the order of
:data:`STEPS`, all inside one transaction, so a failure leaves the store as it was.
"""

from .build import STEPS, build_default

__all__ = ["STEPS", "build_default"]
