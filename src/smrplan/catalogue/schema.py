"""The catalogue schema as data: ``parameters.csv`` beside this module, one row per parameter name.

`PARAMETERS` maps each name to its `ParameterSpec` (unit, number or text, bounds, the catalogue options
that require it, description); `REQUIRED` lists the parameters each catalogue option must carry.
catalogue.py checks entries and overrides against them. `markdown()` renders docs/catalogue-schema.md
from this file and the option vocabulary (data/options.csv); scripts/make-catalogue-schema.py writes
it and a test keeps the committed page equal to it.
"""

from __future__ import annotations

import csv
import textwrap
from dataclasses import dataclass
from importlib import resources

from smrplan.options import CATALOGUE_OPTION_SUPPLIES, CATALOGUE_OPTIONS, OPTION_DESCRIPTIONS, OPTION_LABELS

TYPES = ("number", "text")


@dataclass(frozen=True)
class ParameterSpec:
    """One row of parameters.csv. Bounds are inclusive unless the matching `*_exclusive` flag is set;
    None = no bound. `values`: the allowed values of a text parameter (empty: any text)."""

    name: str
    unit: str
    type: str
    minimum: float | None
    maximum: float | None
    minimum_exclusive: bool
    maximum_exclusive: bool
    required_for: tuple[str, ...]
    description: str
    values: tuple[str, ...] = ()

    def bounds_text(self) -> str:
        """The bounds as text, e.g. ``[0, 1)``, ``> 0``, ``>= 1``, or a text parameter's allowed values
        (``one of seawater, air``); empty without bounds."""
        if self.values:
            return "one of " + ", ".join(self.values)
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f"{'(' if self.minimum_exclusive else '['}{lo:g}, {hi:g}{')' if self.maximum_exclusive else ']'}"
        if lo is not None:
            return f"{'>' if self.minimum_exclusive else '>='} {lo:g}"
        if hi is not None:
            return f"{'<' if self.maximum_exclusive else '<='} {hi:g}"
        return ""

    def outside(self, value: float) -> bool:
        """True when a number violates the bounds."""
        lo, hi = self.minimum, self.maximum
        return ((lo is not None and (value <= lo if self.minimum_exclusive else value < lo))
                or (hi is not None and (value >= hi if self.maximum_exclusive else value > hi)))


def _bound(text: str, exclusive_mark: str) -> tuple[float | None, bool]:
    text = text.strip()
    if not text:
        return None, False
    exclusive = text.startswith(exclusive_mark)
    return float(text.removeprefix(exclusive_mark)), exclusive


def _read() -> dict[str, ParameterSpec]:
    text = resources.files("smrplan.catalogue").joinpath("parameters.csv").read_text(encoding="utf-8")
    specs = {}
    for row in csv.DictReader(line for line in text.splitlines() if not line.startswith("#")):
        lo, lo_ex = _bound(row["minimum"], ">")
        hi, hi_ex = _bound(row["maximum"], "<")
        specs[row["name"]] = ParameterSpec(row["name"], row["unit"], row["type"], lo, hi, lo_ex, hi_ex,
                                           tuple(row["required_for"].split()), row["description"],
                                           tuple(row["values"].split()))
    return specs


PARAMETERS: dict[str, ParameterSpec] = _read()
REQUIRED: dict[str, tuple[str, ...]] = {o: tuple(n for n, s in PARAMETERS.items() if o in s.required_for)
                                        for o in CATALOGUE_OPTIONS}

_INTRO = """\
`src/smrplan/catalogue/technologies.yaml` holds one entry per technology. Every number is a
parameter record; nothing numeric lives in code.

```yaml
schema_version: 1
technologies:
  <key>:                      # snake_case, unique, e.g. klt40s_floating
    name: <display name>
    option: <category>        # {options}
    description: <one line>
    confidence: high|medium|low     # of the entry as a whole
    parameters:
      <param_name>:                 # unit suffix in the name where numeric
        value: <number or string>
        unit: <unit text>           # required, e.g. MWe, fraction, USD/kW, USD/kW-yr, USD/MWh, yr, days, km
        low: <number>               # optional for strings; required for numbers (may equal value)
        high: <number>
        source: <citation text>     # required: publication / page as cited in reference/tech.md
        year: <int>                 # year of the source; for money, the money year of the value
        confidence: high|medium|low # low where tech.md marks [U] or where a planning assumption
        note: <derivation, e.g. "[D] 37 bn RUB / 70 MWe at 65 RUB/USD">   # optional
```

Reading a catalogue (`smrplan.catalogue.catalogue`) checks every entry: a known `option`, every
parameter its option requires, unit, source and year on every parameter, low <= value <= high for
numbers, costs (units with USD) never negative, the parameter's type and bounds below (for text, one
of its allowed values); a failure is an error naming the file, the entry and the field. A scenario
override (`technologies.overrides`) may leave the entry's low-high range but must keep the type and
the bounds.
"""

_OPTIONS_INTRO = """\
## Options

An entry's `option` says which planning option it supplies (`src/smrplan/data/options.csv`):
"""

_PARAMETERS_INTRO = """\
## Parameters

One row per parameter name (`src/smrplan/catalogue/parameters.csv`): a name has the same meaning and
unit in every entry that carries it. Bounds are physical or definitional limits; the evidence range
of each value is its entry's low and high. Parameters required by no option are optional.
"""


def _yaml_comment(text: str) -> str:
    """Text for the comment beside `option:` in the YAML sketch, wrapped onto aligned comment lines."""
    return ("\n" + " " * 30 + "# ").join(textwrap.wrap(text, 70, break_on_hyphens=False))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """docs/catalogue-schema.md: fixed prose, then the options and parameters tables from the data files."""
    lines = ["# Technology catalogue schema", "",
             "<!-- Generated by scripts/make-catalogue-schema.py from src/smrplan/catalogue/parameters.csv and",
             "     src/smrplan/data/options.csv (smrplan.catalogue.schema.markdown); edit those, not this page. -->",
             "", _INTRO.replace("{options}", _yaml_comment(" | ".join(CATALOGUE_OPTIONS))), _OPTIONS_INTRO,
             "| option | supplies | description |", "|---|---|---|"]
    for option, supplies in CATALOGUE_OPTION_SUPPLIES.items():
        what = f"{OPTION_LABELS[supplies]} (`{supplies}`)" if supplies else "nothing (reference entry, not planned)"
        lines.append(f"| `{option}` | {what} | {_cell(OPTION_DESCRIPTIONS[supplies or option])} |")
    lines += ["", "Required parameters per option:", ""]
    groups: dict[tuple[str, ...], list[str]] = {}
    for option, names in REQUIRED.items():
        groups.setdefault(names, []).append(option)
    for names, options in groups.items():
        listed = ", ".join(f"`{n}`" for n in names) if names else "none"
        lines.append(f"- {', '.join(options)}: {listed}.")
    lines += ["", _PARAMETERS_INTRO, "| parameter | unit | type | bounds | required for | description |",
              "|---|---|---|---|---|---|"]
    for s in PARAMETERS.values():
        lines.append(f"| `{s.name}` | {_cell(s.unit)} | {s.type} | {s.bounds_text()} | "
                     f"{', '.join(s.required_for) or 'optional'} | {_cell(s.description)} |")
    return "\n".join(lines) + "\n"
