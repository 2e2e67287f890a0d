"""Training variants by name: ``make_variant("cot_after_label")``, ``VARIANTS.names()``."""

from cotdistill.variants import builtin as _builtin  # noqa: F401  (registers the built-in variants)
from cotdistill.variants import keytoken as _keytoken  # noqa: F401  (registers the key-token variants)
from cotdistill.variants.config import VariantConfig
from cotdistill.variants.base import (
    VARIANTS,
    BuildContext,
    Segment,
    TrainingInstance,
    Variant,
    build_instances,
    make_variant,
    register_variant,
)

__all__ = [
    "VARIANTS", "BuildContext", "Segment", "TrainingInstance", "Variant", "VariantConfig", "build_instances",
    "make_variant", "register_variant",
]
