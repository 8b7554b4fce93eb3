"""etpu.learn.imprinting.engine — pycoral.learn.imprinting.engine's path:
``ImprintingEngine`` (defined in etpu.learn)."""
from .. import ImprintingEngine

__all__ = ["ImprintingEngine"]
