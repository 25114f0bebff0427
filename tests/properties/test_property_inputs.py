"""Property tests: scenarios and settlement tables drawn from the schema's fields, valid or not, end
either in a complete run directory or in an InputError naming the field; never another exception,
never a partial directory, never a changed input. Few examples on a three-settlement region keep them
fast."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import smrplan
from smrplan.errors import InputError
from smrplan.outputs.rundir import MARKER

NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.booleans(),
                    st.text(max_size=3), st.none())
FIELDS = {"finance.discount_rate": st.one_of(st.floats(0, 0.5), NUMBERS),
          "finance.inr_per_usd": st.one_of(st.floats(1, 1000), NUMBERS),
          "demand.tier": st.one_of(st.integers(1, 5), NUMBERS),
          "demand.load_factor": st.one_of(st.floats(0.06, 1), NUMBERS),
          "technologies.overrides.klt40s_floating.capex_usd_per_kw": st.one_of(st.floats(0, 100000), NUMBERS)}
ROW = st.fixed_dictionaries({
    "id": st.sampled_from(["001", "002", "A-1", ""]),
    "population": st.one_of(st.integers(0, 50000), st.sampled_from(["true", "-5", "x", ""])),
    "lon": st.one_of(st.floats(92.5, 93.0), st.sampled_from(["nan", "200"])),
    "lat": st.one_of(st.floats(11.5, 12.5), st.sampled_from(["", "-95"]))})


def _nested(dotted: str, value) -> dict:
    out: dict = {}
    node = out
    *parents, last = dotted.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value
    return out


def _check(scenario: Path, work: Path, fields: list[str]) -> None:
    before = {p.name: p.read_bytes() for p in work.iterdir()}
    out = work.parent / "run"
    try:
        smrplan.run(scenario, out=out)
    except InputError as exc:
        assert any(f in str(exc) for f in fields), str(exc)
        assert not out.exists()
    else:
        for name in ("plan.json", "settlements.gpkg", "sites.gpkg", "scenario.yaml", MARKER):
            assert (out / name).is_file(), name
    assert [p.name for p in work.parent.iterdir() if p.name.startswith(".")] == []
    assert {p.name: p.read_bytes() for p in work.iterdir()} == before


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(FIELDS)), data=st.data())
def test_scenario_numbers_run_or_name_the_field(tmp_path_factory, field, data):
    value = data.draw(FIELDS[field])
    work = tmp_path_factory.mktemp("p") / "in"
    work.mkdir()
    (work / "islands.csv").write_text("id,name,lon,lat,population\n1,a,92.7,11.6,5000\n2,b,92.75,11.7,300\n"
                                      "3,c,92.72,11.65,12000\n", encoding="utf-8")
    raw = {"name": "p", "data": {"settlements": "islands.csv"}, **_nested(field, value),
           "outputs": {"report": False, "dispatch": False, "sensitivity": False}}
    (work / "s.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    _check(work / "s.yaml", work, [field.split(".")[-1]])


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=3))
def test_settlement_tables_run_or_name_the_row(tmp_path_factory, rows):
    work = tmp_path_factory.mktemp("p") / "in"
    work.mkdir()
    lines = ["id,name,lon,lat,population"] + [f"{r['id']},n{i},{r['lon']},{r['lat']},{r['population']}"
                                             for i, r in enumerate(rows)]
    (work / "islands.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = {"name": "p", "data": {"settlements": "islands.csv"},
           "outputs": {"report": False, "dispatch": False, "sensitivity": False}}
    (work / "s.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    _check(work / "s.yaml", work, ["islands.csv"])
