"""A CKAN-compatible Action API over the published catalog: ``/api/3/action/{name}`` and ``/api/action/{name}``.

    actions.py       the registry (``register_action``), the call context and the CKAN envelope
    shapes.py        catalog records in CKAN's package, resource and organization shapes
    read_actions.py  package_*, organization_*, resource_show, status_show, help_show
    datastore.py     datastore_search and datastore_search_sql
"""
