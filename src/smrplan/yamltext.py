"""YAML text to Python values, the one reader every data and scenario file goes through."""

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """The value of a YAML document, read with the safe loader (plain data only, no Python objects).

    Uses libyaml's C loader when PyYAML was built with it (about ten times faster than the pure-Python
    loader on the bundled catalogue and defaults; the values are the same) and the Python one otherwise.

    Parameters
    ----------
    text : str
        The document.

    Returns
    -------
    Any
        Mappings, lists and scalars as `yaml.safe_load` gives them.

    Raises
    ------
    yaml.YAMLError
        When the text is not valid YAML.
    """
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
