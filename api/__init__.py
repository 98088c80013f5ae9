"""The public query API: FastAPI over DuckDB, reading only published releases.

    app.py        create_app(settings): routes, error handlers, OpenAPI at /docs
    deps.py       Annotated dependency shortcuts (SettingsDep, CatalogDep, EngineDep)
    engine.py     the locked-down DuckDB engine (may read HOME/public/releases and nothing else)
    query.py      rows of a release: typed filters, keyset pages
    cursor.py     the opaque, integrity-checked page cursor
    errors.py     error_body() and the one set of exception handlers
    schemas.py    the ...Public models, which are all that leaves the API
    links.py      absolute URLs of datasets, releases and their files
    routes/       thin routes, one module per resource
"""
