"""Command-line interface: parses arguments and calls the library."""
