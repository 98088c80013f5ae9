"""Outside tools in virtual environments of their own, under a cache folder, never in the project's.

presidio-evaluator and pycanon pin libraries (numpy, pandas, transformers) the project must not take;
each gets ``CACHE/venvs/<name>``, made once with the ordinary ``venv`` and ``pip`` from the registry,
and is run as a subprocess that reads and writes JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

from opendata.errors import ConfigurationError


def ensure_venv(cache: Path, name: str, requirement: str) -> Path:
    """The Python of a venv holding ``requirement``, made on first use (minutes, once)."""
    folder = cache / "venvs" / name
    python = folder / "bin" / "python"
    stamp = folder / ".installed"
    if stamp.is_file() and stamp.read_text() == requirement and python.exists():
        return python
    folder.parent.mkdir(parents=True, exist_ok=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise ConfigurationError(f"could not install {requirement} into {folder}: {done.stderr.strip()[-600:]}")
    stamp.write_text(requirement)
    return python


def run_json(python: Path, script: str, payload: Any, timeout: float = 1800) -> Any:
    """Run ``script`` in that venv with ``payload`` as JSON on stdin; its stdout is JSON."""
    done = subprocess.run([str(python), "-c", script], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise ConfigurationError(f"{python} failed: {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def download_sdist(cache: Path, package: str) -> Path:
    """An sdist from the registry, fetched with pip (for data files only an sdist ships)."""
    folder = cache / "sdists"
    found = sorted(folder.glob(f"{package.replace('-', '_')}-*.tar.gz"))
    if found:
        return found[-1]
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps",
                           "--disable-pip-version-check", package, "-d", str(folder)], capture_output=True, text=True)
    found = sorted(folder.glob(f"{package.replace('-', '_')}-*.tar.gz"))
    if done.returncode != 0 or not found:
        raise ConfigurationError(f"could not download the sdist of {package}: {done.stderr.strip()[-600:]}")
    return found[-1]
