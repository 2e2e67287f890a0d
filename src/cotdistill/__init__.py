"""cotdistill: chain-of-thought augmented distillation, from teacher rationales to measured students."""

__version__ = "0.1.0"
