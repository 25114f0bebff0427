"""The installed smrplan version (from the package metadata, set in pyproject.toml)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("smrplan")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
