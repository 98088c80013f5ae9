"""DuckDB extensions the platform loads, from the files of their PyPI wheels, never from the internet.

DuckDB would otherwise download an extension the first time a query needs one (``s3://`` -> httpfs).
Nothing may be downloaded at run time, so every connection that reads object storage turns
auto-install and auto-load off and loads httpfs from the ``duckdb-extension-httpfs`` wheel, which is
pinned to the duckdb version (1.5.5). ``LOAD '<file>'`` loads that signed file where it lies: unlike
``INSTALL``, it writes nothing under ``~/.duckdb`` (an API replica may run with a read-only home).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from opendata.errors import ConfigurationError
from opendata.sql_text import quote_literal

NO_DOWNLOADS = ["SET autoinstall_known_extensions = false", "SET autoload_known_extensions = false"]


def httpfs_file() -> Path:
    """The ``httpfs.duckdb_extension`` file of the installed wheel that matches this duckdb."""
    try:
        import duckdb_extension_httpfs
    except ImportError as exc:
        raise ConfigurationError(
            "reading object storage needs the duckdb-extension-httpfs package: pip install "
            f"'duckdb-extension-httpfs=={duckdb.__version__}' (or unset OPENDATA_STORAGE_URL)"
        ) from exc
    package = Path(duckdb_extension_httpfs.__file__).parent
    path = package / "extensions" / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    if not path.is_file():
        found = sorted(p.parent.name for p in package.glob("extensions/*/httpfs.duckdb_extension"))
        raise ConfigurationError(
            f"duckdb-extension-httpfs has no build for duckdb {duckdb.__version__} (it has "
            f"{', '.join(found) or 'none'}): pip install 'duckdb-extension-httpfs=={duckdb.__version__}'"
        )
    return path


def load_httpfs() -> list[str]:
    """Statements that load httpfs from the wheel, with downloads of any other extension off."""
    return [*NO_DOWNLOADS, f"LOAD {quote_literal(str(httpfs_file()))}"]


def _wheel_file(package_name: str, extension: str) -> Path:
    """The ``<extension>.duckdb_extension`` file of the installed ``duckdb-extension-<extension>`` wheel."""
    try:
        module = __import__(package_name)
    except ImportError as exc:
        raise ConfigurationError(
            f"this needs the duckdb-extension-{extension} package: pip install "
            f"'duckdb-extension-{extension}=={duckdb.__version__}'"
        ) from exc
    package = Path(str(module.__file__)).parent
    path = package / "extensions" / f"v{duckdb.__version__}" / f"{extension}.duckdb_extension"
    if not path.is_file():
        found = sorted(p.parent.name for p in package.glob(f"extensions/*/{extension}.duckdb_extension"))
        raise ConfigurationError(
            f"duckdb-extension-{extension} has no build for duckdb {duckdb.__version__} (it has "
            f"{', '.join(found) or 'none'}): pip install 'duckdb-extension-{extension}=={duckdb.__version__}'"
        )
    return path


def spatial_file() -> Path:
    """The ``spatial.duckdb_extension`` file of the ``duckdb-extension-spatial`` wheel (GEOMETRY, ST_*)."""
    return _wheel_file("duckdb_extension_spatial", "spatial")


def load_spatial() -> list[str]:
    """Statements that load DuckDB spatial from its wheel, with downloads of any other extension off.

    Run them before ``enable_external_access = false``: a locked connection loads nothing more."""
    return [*NO_DOWNLOADS, f"LOAD {quote_literal(str(spatial_file()))}"]
