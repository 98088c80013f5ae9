"""Harvest: move in from an existing portal. A harvester (CKAN, DCAT) lists the portal's tabular
resources as :class:`~publishers.harvest.model.Candidate` objects; :mod:`publishers.harvest.write` turns
each into a reviewed job file (source, schema, metadata, a proposed privacy policy that waits for
approval) and reports per source what was new, changed, removed or skipped, and why.
"""
