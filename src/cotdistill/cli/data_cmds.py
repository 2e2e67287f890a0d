"""CLI commands (filled in by its stage)."""
