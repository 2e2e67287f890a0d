"""Tasks (multiple-choice datasets) as normalized :class:`Example` records, and teacher rationales."""

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale, read_rationales, write_rationales

__all__ = ["Example", "Rationale", "read_rationales", "write_rationales"]
