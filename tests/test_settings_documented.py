"""Every setting has a description and a row in README.md's settings table."""

from __future__ import annotations

from opendata.settings import Settings
from tests.conftest import REPO


def test_every_setting_is_described_and_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        assert f"`OPENDATA_{name.upper()}`" in readme, f"setting OPENDATA_{name.upper()} missing from README"
