"""Thin routes, one module per resource; the work lives in api.query, api.present and the catalog."""
