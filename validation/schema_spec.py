"""A Frictionless Table Schema (v1 or v2 descriptor) read into typed, normalised objects.

Both versions end up in the same shape: ``missingValues`` as plain strings (v2 allows
``{"value", "label"}`` objects), ``primaryKey`` and foreign-key ``fields`` as lists, the v1 ``fmt:``
format prefix removed, and a field without a ``type`` typed ``string`` as frictionless does for v1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from opendata.errors import SchemaInvalid

TYPES = (
    "any", "array", "boolean", "date", "datetime", "duration", "geojson", "geopoint", "integer", "list",
    "number", "object", "string", "time", "year", "yearmonth",
)
DEFAULT_MISSING = [""]
DEFAULT_TRUE = ["true", "True", "TRUE", "1"]
DEFAULT_FALSE = ["false", "False", "FALSE", "0"]
FieldsMatch = Literal["exact", "equal", "subset", "superset", "partial"]

# Which constraints frictionless applies to which type (others are ignored, as frictionless does).
BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
SUPPORTED: dict[str, tuple[str, ...]] = {
    "any": ("required", "enum"),
    "array": ("required", "minLength", "maxLength", "enum"),
    "boolean": ("required", "enum"),
    "date": ("required", *BOUNDS, "enum"),
    "datetime": ("required", *BOUNDS, "enum"),
    "duration": ("required", "enum"),
    "geojson": ("required", "enum"),
    "geopoint": ("required", "enum"),
    "integer": ("required", *BOUNDS, "enum"),
    "list": ("required", "minLength", "maxLength"),
    "number": ("required", *BOUNDS, "enum"),
    "object": ("required", "minLength", "maxLength", "enum"),
    "string": ("required", "minLength", "maxLength", "pattern", "enum"),
    "time": ("required", *BOUNDS, "enum"),
    "year": ("required", *BOUNDS, "enum"),
    "yearmonth": ("required", *BOUNDS, "enum"),
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "string"
    format: str = "default"
    missing_values: tuple[str, ...] = ("",)
    constraints: dict[str, Any] = field(default_factory=dict)
    true_values: tuple[str, ...] = tuple(DEFAULT_TRUE)
    false_values: tuple[str, ...] = tuple(DEFAULT_FALSE)
    bare_number: bool = True
    group_char: str | None = None
    decimal_char: str = "."
    float_number: bool = False
    number_options_defined: bool = False
    delimiter: str = ","
    item_type: str = "string"

    @property
    def required(self) -> bool:
        return bool(self.constraints.get("required"))

    @property
    def unique(self) -> bool:
        return bool(self.constraints.get("unique"))

    def active_constraints(self) -> dict[str, Any]:
        """The constraints frictionless checks for this type, in the descriptor's order."""
        allowed = SUPPORTED.get(self.type, ("required", "enum"))
        return {k: v for k, v in self.constraints.items() if k in allowed and k != "unique" and v is not None}


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str  # "" refers to the table itself; otherwise another published dataset
    reference_fields: tuple[str, ...]


@dataclass(frozen=True)
class TableSpec:
    fields: tuple[FieldSpec, ...]
    missing_values: tuple[str, ...] = ("",)
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    fields_match: FieldsMatch = "exact"
    descriptor: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def get(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SchemaInvalid(f"{where} must be a field name or a list of field names, got {value!r}")


def _missing(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise SchemaInvalid(f"{where} must be a list, got {value!r}")
    out: list[str] = []
    for item in value:
        if isinstance(item, dict) and "value" in item:  # v2: {"value": "-99", "label": "refused"}
            out.append(str(item["value"]))
        elif isinstance(item, str):
            out.append(item)
        else:
            raise SchemaInvalid(f"{where} holds {item!r}; use strings or {{'value': ..., 'label': ...}}")
    return tuple(out)


def _field(raw: Any, position: int, schema_missing: tuple[str, ...]) -> FieldSpec:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise SchemaInvalid(f"field {position} must be an object with a string 'name', got {raw!r}")
    kind = raw.get("type") or "string"
    if kind not in TYPES:
        raise SchemaInvalid(f"field '{raw['name']}' has type {kind!r}; expected one of {', '.join(TYPES)}")
    fmt = str(raw.get("format") or "default").removeprefix("fmt:")
    constraints = raw.get("constraints") or {}
    if not isinstance(constraints, dict):
        raise SchemaInvalid(f"field '{raw['name']}': constraints must be an object")
    if "enum" in constraints and not isinstance(constraints["enum"], list):
        raise SchemaInvalid(f"field '{raw['name']}': constraints.enum must be a list")
    number_options = {"groupChar", "decimalChar", "bareNumber"} & set(raw)
    return FieldSpec(
        name=raw["name"],
        type=kind,
        format=fmt,
        missing_values=_missing(raw["missingValues"], f"field '{raw['name']}' missingValues")
        if "missingValues" in raw else schema_missing,
        constraints=dict(constraints),
        true_values=tuple(raw.get("trueValues", DEFAULT_TRUE)),
        false_values=tuple(raw.get("falseValues", DEFAULT_FALSE)),
        bare_number=bool(raw.get("bareNumber", True)),
        group_char=raw.get("groupChar"),
        decimal_char=raw.get("decimalChar", "."),
        float_number=bool(raw.get("floatNumber", False)),
        number_options_defined=bool(number_options),
        delimiter=raw.get("delimiter", ","),
        item_type=raw.get("itemType", "string"),
    )


def read_table_schema(descriptor: dict[str, Any]) -> TableSpec:
    """Normalise a v1 or v2 Table Schema; raise SchemaInvalid naming what is wrong."""
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("fields"), list):
        raise SchemaInvalid("a Table Schema is an object with a 'fields' list")
    missing = _missing(descriptor.get("missingValues", DEFAULT_MISSING), "missingValues")
    fields = tuple(_field(raw, i, missing) for i, raw in enumerate(descriptor["fields"], start=1))
    names = [f.name for f in fields]
    primary = _names(descriptor["primaryKey"], "primaryKey") if descriptor.get("primaryKey") else ()
    for name in primary:
        if name not in names:
            raise SchemaInvalid(f"primaryKey names '{name}', which is not a field")
    keys: list[ForeignKey] = []
    for raw in descriptor.get("foreignKeys") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("reference"), dict):
            raise SchemaInvalid(f"a foreign key needs 'fields' and a 'reference' object, got {raw!r}")
        own = _names(raw.get("fields"), "foreignKeys.fields")
        ref = raw["reference"]
        theirs = _names(ref.get("fields"), "foreignKeys.reference.fields")
        if len(own) != len(theirs):
            raise SchemaInvalid(f"foreign key {list(own)} and its reference {list(theirs)} differ in length")
        for name in own:
            if name not in names:
                raise SchemaInvalid(f"foreign key names '{name}', which is not a field")
        keys.append(ForeignKey(own, str(ref.get("resource") or ""), theirs))
    match = descriptor.get("fieldsMatch", "exact")
    if match not in ("exact", "equal", "subset", "superset", "partial"):
        raise SchemaInvalid(f"fieldsMatch {match!r} is not one of exact, equal, subset, superset, partial")
    return TableSpec(fields, missing, primary, tuple(keys), match, descriptor)
