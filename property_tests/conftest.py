"""Hypothesis profiles for the property suite.

`ci` is what the suite runs with unless `--hypothesis-profile` names another one (`nightly`
for a long run). The profile is handed to each state machine explicitly rather than loaded
globally, so the unit tests' own Hypothesis settings stay as they are when both run in one
session.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "ci",
    max_examples=200,
    stateful_step_count=30,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[phase for phase in Phase if phase is not Phase.explain],  # as DEFAULT_SETTINGS
)
settings.register_profile(
    "nightly",
    parent=settings.get_profile("ci"),
    max_examples=2000,
    stateful_step_count=60,
)


@pytest.fixture
def machine_settings() -> settings:
    """The selected profile (`ci`, `nightly`, or one the plugin derived from them, such as
    `nightly-with-verbose-verbosity`), else `ci`."""
    name = settings.get_current_profile_name()
    ours = name.split("-with-")[0] in ("ci", "nightly")
    return settings.get_profile(name if ours else "ci")
