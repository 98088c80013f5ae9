"""The header row against the schema: label errors, and which field each column is checked as.

frictionless's rules (``frictionless/table/header.py``): with ``fieldsMatch: exact`` (the default)
labels pair with fields by position, a label past the last field is an ``extra-label`` checked as an
``any`` field, a field past the last label is a ``missing-label`` and is not checked in rows; blank,
duplicate and incorrect labels are reported per position. The other modes pair labels and fields by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from validation.report import ValidationError
from validation.schema_spec import FieldSpec, TableSpec


@dataclass(frozen=True)
class HeaderCheck:
    expected: list[FieldSpec]  # one per label, in the data's order
    errors: list[ValidationError]


def _label_error(kind: str, number: int, label: str, field_name: str, message: str) -> ValidationError:
    return ValidationError(type=kind, fieldNumber=number, fieldName=field_name, cell=label, message=message)


def check_header(labels: list[str], spec: TableSpec) -> HeaderCheck:
    if not labels:
        return HeaderCheck(list(spec.fields), [ValidationError(type="blank-header",
                                                                message="Header is completely blank")])
    errors: list[ValidationError] = []
    fields = list(spec.fields)
    by_name = spec.fields_match != "exact"
    if by_name:
        lookup = {f.name: f for f in fields}
        matched: list[FieldSpec | None] = [lookup.get(label) for label in labels]
    else:
        matched = [fields[i] if i < len(fields) else None for i in range(len(labels))]
    expected = [f if f is not None else FieldSpec(name=label, type="any", missing_values=spec.missing_values)
                for f, label in zip(matched, labels, strict=True)]

    if spec.fields_match not in ("subset", "partial"):
        for number, (label, f) in enumerate(zip(labels, matched, strict=True), start=1):
            if f is None:
                errors.append(_label_error("extra-label", number, label, "",
                                           f'There is an extra label "{label}" in header at position "{number}"'))
    paired = {f.name for f in matched if f is not None}
    unmatched = [f for f in fields if f.name not in paired] if by_name else fields[len(labels):]
    if spec.fields_match in ("superset", "partial"):
        unmatched = [f for f in unmatched if f.required or f.name in spec.primary_key]
    for offset, f in enumerate(unmatched):
        number = len(labels) + offset + 1
        errors.append(_label_error("missing-label", number, "", f.name,
                                   f"There is a missing label in the header's field \"{f.name}\" at position "
                                   f'"{number}"'))
    if by_name:
        return HeaderCheck(expected, errors)

    for number, (f, label) in enumerate(zip(fields, labels, strict=False), start=1):
        if not label:
            errors.append(_label_error("blank-label", number, "", f.name,
                                       f'Label in the header in field at position "{number}" is blank'))
            continue
        earlier = [i for i, seen in enumerate(labels[: number - 1], start=1) if seen == label]
        if earlier:
            note = 'at position "' + ", ".join(map(str, earlier)) + '"'
            errors.append(_label_error("duplicate-label", number, label, f.name,
                                       f'Label "{label}" in the header at position "{number}" is duplicated '
                                       f"to a label: {note}"))
            continue
        if label != f.name:
            errors.append(_label_error("incorrect-label", number, label, f.name,
                                       f'Label "{label}" in field {f.name} at position "{number}" does not '
                                       "match the field name in the schema"))
    return HeaderCheck(expected, errors)
