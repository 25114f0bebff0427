"""The bundled india-islands region screens every siting criterion that public data exist for.

The criteria left without data are listed here with the reason the scenario gives (data_gaps in
scenarios/india-islands.yaml): adding a layer for one of them must update this list.
"""

from __future__ import annotations

from smrplan.pipeline import prepare_inputs, screen_sites
from smrplan.scenario import resolve_scenario

WITHOUT_DATA = {
    "capable_fault": "faults", "protected_areas": "protected_areas", "hazardous_facilities": "hazardous_facilities",
    "slope": "dem", "elevation": "dem", "tsunami": "tsunami",
}


def test_default_region_evaluates_every_criterion_with_public_data():
    scenario = resolve_scenario("india-islands")
    screened = screen_sites(prepare_inputs(scenario))
    skipped = {c.name: c.note for c in screened.criteria if not c.evaluated}
    assert set(skipped) == set(WITHOUT_DATA)
    for name, layer in WITHOUT_DATA.items():
        reason = scenario.data_gaps[layer]
        assert skipped[name].startswith(f"no {layer} ") and skipped[name].endswith(reason)
    evaluated = {c.name for c in screened.criteria if c.evaluated}
    assert {"seismic_zone", "earthquake_max_magnitude", "earthquake_count", "cyclones", "airports", "water_depth",
            "on_land", "cooling_water"} <= evaluated
