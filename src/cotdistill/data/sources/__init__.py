"""The built-in task sources, one module each; importing this package registers them all in ``TASKS``."""

from cotdistill.data import synthetic
from cotdistill.data.sources import commonsense_qa, generic, openbookqa, quarel

__all__ = ["commonsense_qa", "generic", "openbookqa", "quarel", "synthetic"]
