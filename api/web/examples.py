"""Copy-paste API examples for a dataset page: curl, Python with requests, JavaScript fetch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from api.web.profile import ColumnProfile

MAX_VALUE_LENGTH = 40


@dataclass(frozen=True)
class ApiExample:
    language: str
    label: str
    code: str


def example_filter(profiles: list[ColumnProfile]) -> tuple[str, str] | None:
    """A filter worth showing: the most frequent value of the first text column with repeated values."""
    for profile in profiles:
        if profile.type == "string" and profile.kind == "top-values" and profile.bars:
            value = profile.bars[0].label
            if len(value) <= MAX_VALUE_LENGTH and value != "(empty)":
                return profile.name, value
    return None


def example_params(release: int | None, column_filter: tuple[str, str] | None, limit: int = 5) -> dict[str, str]:
    params = {"limit": str(limit)}
    if release is not None:
        params["release"] = str(release)
    if column_filter:
        params[column_filter[0]] = column_filter[1]
    return params


def rows_example_url(rows_url: str, params: dict[str, str]) -> str:
    return f"{rows_url}?{urlencode(params)}"


def api_examples(rows_url: str, params: dict[str, str]) -> list[ApiExample]:
    url = rows_example_url(rows_url, params)
    shell_url = url.replace("'", "'\\''")
    python_params = ",\n".join(f"        {json.dumps(k)}: {json.dumps(v)}" for k, v in params.items())
    js_params = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in params.items())
    return [
        ApiExample("shell", "curl", f"curl -s '{shell_url}'"),
        ApiExample(
            "python", "Python (requests)",
            "import requests\n\n"
            "response = requests.get(\n"
            f"    {json.dumps(rows_url)},\n"
            "    params={\n"
            f"{python_params},\n"
            "    },\n"
            "    timeout=30,\n"
            ")\n"
            "response.raise_for_status()\n"
            "page = response.json()\n"
            "for row in page[\"rows\"]:\n"
            "    print(row)\n"
            "# more rows: pass page[\"next\"] back as the \"cursor\" parameter",
        ),
        ApiExample(
            "javascript", "JavaScript (fetch)",
            f"const url = new URL({json.dumps(rows_url)});\n"
            f"url.search = new URLSearchParams({{ {js_params} }});\n"
            "const response = await fetch(url);\n"
            "if (!response.ok) throw new Error((await response.json()).error.message);\n"
            "const page = await response.json();\n"
            "console.table(page.rows);\n"
            "// more rows: set the \"cursor\" parameter to page.next",
        ),
    ]
