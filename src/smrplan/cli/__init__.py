"""Command line: thin wrappers over the public API."""
