"""Cardinal's INI settings file for the red-flag indicators (docs: docs/procurement.md, "Settings").

A section per indicator code enables it (``[R024]``); its properties tune it. Properties before any
section are global: ``currency``, ``no_price_comparison_procurement_methods``,
``price_comparison_procurement_methods``; ``[exclusions]`` holds ``procurement_method_details``; and
``[R003.procurement_method_details]`` maps procurement method details to a minimum submission period.
With no settings file every indicator is enabled with its defaults. A file that cannot work is refused
with a :class:`SettingsError` naming the section, the property and what is expected.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass, field
from pathlib import Path

from opendata.errors import TerminalError

CODES = ("R003", "R018", "R024", "R025", "R028", "R030", "R035", "R036", "R038", "R048", "R058")
#: Beyond Cardinal (procurement/indicators/proact.py): on only when their section is in the settings.
EXTRA = ("P001", "P002", "P003", "P004", "P005", "P006", "transparency")
_GLOBAL = "global"

#: Known properties per section, with their kind (int, float or text).
_PROPERTIES: dict[str, dict[str, type]] = {
    _GLOBAL: {"currency": str, "no_price_comparison_procurement_methods": str,
              "price_comparison_procurement_methods": str},
    "exclusions": {"procurement_method_details": str},
    "R003": {"threshold": int, "procurement_methods": str},
    "R018": {"procurement_methods": str},
    "R024": {"threshold": float},
    "R025": {"percentile": int, "threshold": float},
    "R028": {}, "R030": {}, "R036": {},
    "R035": {"threshold": int},
    "R038": {"threshold": float, "minimum_submitted_bids": int, "minimum_contracting_processes": int},
    "R048": {"threshold": int, "digits": int, "minimum_contracting_processes": int},
    "R058": {"threshold": float},
    "P001": {"procurement_methods": str},
    "P002": {"short_days": int, "long_days": int},
    "P003": {"threshold": float, "minimum_contracting_processes": int},
    "P004": {"threshold": float},
    "P005": {"threshold": int},
    "P006": {"procurement_methods": str},
    "transparency": {},
}


class SettingsError(TerminalError):
    """A Cardinal settings file that cannot be read or holds a value of the wrong kind."""

    code = "procurement-settings-error"


def pipe_list(text: str | None) -> frozenset[str]:
    """``a|b|c`` as a set of its non-empty, stripped parts."""
    return frozenset(part.strip() for part in (text or "").split("|") if part.strip())


@dataclass(frozen=True)
class IndicatorSettings:
    """What the indicators read from a settings file; every field has Cardinal's default."""

    enabled: frozenset[str] = frozenset(CODES)
    currency: str | None = None
    no_price_comparison_procurement_methods: frozenset[str] = frozenset()
    price_comparison_procurement_methods: frozenset[str] = frozenset()
    excluded_procurement_method_details: frozenset[str] = frozenset()
    values: dict[str, dict[str, int | float | str]] = field(default_factory=dict)
    r003_thresholds: dict[str, int] = field(default_factory=dict)

    def get(self, code: str, name: str, default: int | float | str | None = None) -> int | float | str | None:
        return self.values.get(code, {}).get(name, default)

    def number(self, code: str, name: str, default: float) -> float:
        found = self.get(code, name, default)
        return float(found) if isinstance(found, int | float) else default

    def optional_number(self, code: str, name: str) -> float | None:
        found = self.get(code, name)
        return float(found) if isinstance(found, int | float) else None

    def methods(self, code: str, default: str = "") -> frozenset[str]:
        found = self.get(code, "procurement_methods")
        return pipe_list(found if isinstance(found, str) else default)

    def compares_prices(self, method_details: str | None) -> bool:
        """Whether bid prices of a procedure with these ``/tender/procurementMethodDetails`` may be compared."""
        if self.no_price_comparison_procurement_methods and method_details is not None \
                and method_details in self.no_price_comparison_procurement_methods:
            return False
        if self.price_comparison_procurement_methods and (
                method_details is None or method_details not in self.price_comparison_procurement_methods):
            return False
        return True


def parse_settings(text: str, where: str = "settings") -> IndicatorSettings:
    """The settings in an INI text (Cardinal's format: ``;`` or ``#`` comments, also after a value)."""
    parser = configparser.ConfigParser(
        interpolation=None, inline_comment_prefixes=(";", "#"), comment_prefixes=(";", "#"),
        default_section="\x00none", strict=True,
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    try:
        parser.read_string(f"[{_GLOBAL}]\n" + text, source=where)
    except configparser.Error as exc:
        raise SettingsError(f"{where} is not a valid INI file: {exc.message}") from None
    enabled: set[str] = set()
    values: dict[str, dict[str, int | float | str]] = {}
    r003_thresholds: dict[str, int] = {}
    for section in parser.sections():
        items = dict(parser.items(section))
        if section == "R003.procurement_method_details":
            r003_thresholds = {k: _convert(where, section, k, v, int) for k, v in items.items()}  # type: ignore[misc]
            continue
        known = _PROPERTIES.get(section)
        if known is None:
            raise SettingsError(f"{where}: unknown section [{section}]; sections are {', '.join(CODES + EXTRA)}, "
                                "exclusions and R003.procurement_method_details")
        if section in CODES or section in EXTRA:
            enabled.add(section)
        converted: dict[str, int | float | str] = {}
        for name, raw in items.items():
            if name not in known:
                allowed = ", ".join(known) or "none"
                raise SettingsError(f"{where}: [{section}] has an unknown property '{name}' (known: {allowed})")
            converted[name] = _convert(where, section, name, raw, known[name])
        values[section] = converted
    top = values.pop(_GLOBAL, {})
    exclusions = values.pop("exclusions", {})
    currency = top.get("currency")
    return IndicatorSettings(
        enabled=frozenset(enabled),
        currency=str(currency) if currency else None,
        no_price_comparison_procurement_methods=pipe_list(str(top.get("no_price_comparison_procurement_methods", ""))),
        price_comparison_procurement_methods=pipe_list(str(top.get("price_comparison_procurement_methods", ""))),
        excluded_procurement_method_details=pipe_list(str(exclusions.get("procurement_method_details", ""))),
        values=values,
        r003_thresholds=r003_thresholds,
    )


def load_settings(path: Path | None) -> IndicatorSettings:
    """The settings file at ``path``; every indicator with its defaults when ``path`` is None."""
    if path is None:
        return IndicatorSettings()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SettingsError(f"settings file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"settings file {path} cannot be read: {exc}") from None
    return parse_settings(text, str(path))


def _convert(where: str, section: str, name: str, raw: str, kind: type) -> int | float | str:
    if kind is str:
        return raw
    try:
        value = int(raw) if kind is int else float(raw)
    except ValueError:
        expected = "a whole number" if kind is int else "a decimal number"
        raise SettingsError(f"{where}: [{section}] {name} must be {expected} (got {raw!r})") from None
    if value < 0:
        raise SettingsError(f"{where}: [{section}] {name} must not be negative (got {raw!r})")
    return value
