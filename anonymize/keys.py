"""The pseudonymisation key: from the environment, or kept under the data folder in development.

In development a random 32-byte key is created once in ``HOME/private/secrets/pseudonym.key`` (mode
0600), so pseudonyms stay stable from one release to the next. In production the key must come from
``OPENDATA_PSEUDONYM_KEY``; without it the run cannot go on.

Each key has a public id (:func:`key_id`, a keyed hash that reveals nothing of the key) written into
the privacy report. Rotation: set the new key in ``OPENDATA_PSEUDONYM_KEY`` and the old one in
``OPENDATA_PSEUDONYM_KEY_PREVIOUS`` for the first run after the change; the report then records a
``pseudonym-key-rotated`` finding (pseudonyms in this release do not link to earlier ones). A key that
changes *without* the previous one being named is taken for a mistake and blocks the release
(``pseudonym-key-changed``), because it would silently break every pseudonym's link across releases.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from opendata.errors import ConfigurationError
from opendata.settings import Settings

KEY_FILE = "pseudonym.key"
KEY_BYTES = 32
MIN_KEY_BYTES = 16  # a key from the environment or a key file: at least this long


def key_id(key: bytes) -> str:
    """A public name of a key: stable, short, and useless for recovering the key."""
    return hmac.new(key, b"opendata pseudonym key id", hashlib.sha256).hexdigest()[:12]


def previous_key_id(settings: Settings) -> str | None:
    """The id of OPENDATA_PSEUDONYM_KEY_PREVIOUS, the key being rotated out (None when unset)."""
    previous = getattr(settings, "pseudonym_key_previous", None)
    if previous is None:
        return None
    return key_id(_checked(previous.get_secret_value(), "OPENDATA_PSEUDONYM_KEY_PREVIOUS"))


def _checked(value: str, variable: str) -> bytes:
    key = value.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"{variable} is shorter than {MIN_KEY_BYTES} characters; use a long random secret, e.g. "
            "the output of `python -c 'import secrets; print(secrets.token_hex(32))'`"
        )
    return key


def pseudonym_key(settings: Settings) -> bytes:
    if settings.pseudonym_key is not None:
        return _checked(settings.pseudonym_key.get_secret_value(), "OPENDATA_PSEUDONYM_KEY")
    if settings.pseudonym_key_file is not None:
        return _key_file(settings.pseudonym_key_file)
    if settings.environment != "development":
        raise ConfigurationError(
            "a column is to be pseudonymised but no key is set: set OPENDATA_PSEUDONYM_KEY to a long random "
            "secret (it must stay the same from one release to the next so pseudonyms stay stable)"
        )
    return _development_key(settings.paths.secrets / KEY_FILE)


def _key_file(path: Path) -> bytes:
    """The exact bytes of a mounted secret file (e.g. an embedded installation's pseudonym.key, moved to a
    secret store when the installation moves to several machines)."""
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the pseudonym key file {path} (OPENDATA_PSEUDONYM_KEY_FILE): {exc.strerror}"
        ) from None
    if len(key) < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"the pseudonym key file {path} (OPENDATA_PSEUDONYM_KEY_FILE) holds {len(key)} bytes; a key needs "
            f"at least {MIN_KEY_BYTES}"
        )
    return key


def _development_key(path: Path) -> bytes:
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = b""
    if len(key) == KEY_BYTES:
        return key
    if key:
        raise ConfigurationError(
            f"the development pseudonym key {path} is damaged; delete it to create a new one"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    key = secrets.token_bytes(KEY_BYTES)
    # Written aside, then linked into place: a racing run either links first or reads the whole key.
    temporary = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return path.read_bytes()
    finally:
        temporary.unlink()
    return key
