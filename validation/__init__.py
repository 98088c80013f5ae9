"""Validation stage: Frictionless Table Schema checks on the anonymised table."""

from validation.report import ValidationError, ValidationReport
from validation.table_check import validate_table

__all__ = ["ValidationError", "ValidationReport", "validate_table"]
