"""Validation stage: Frictionless Table Schema checks on the anonymised table, run by DuckDB."""

from validation.file_check import check_file, validate_file
from validation.parquet_check import check_parquet, validate_parquet
from validation.report import ErrorCount, ValidationError, ValidationReport
from validation.table_check import TableCheck, check_table, validate_table

__all__ = ["ErrorCount", "TableCheck", "ValidationError", "ValidationReport", "check_file", "check_parquet",
           "check_table", "validate_file", "validate_parquet", "validate_table"]
