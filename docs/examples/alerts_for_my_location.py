"""Weather alerts for my location: the active alerts whose area covers a point, in one request.

    python docs/examples/alerts_for_my_location.py --api http://127.0.0.1:8000 --lat 31.8 --lon -86.55
    python docs/examples/alerts_for_my_location.py ... --follow     # then wait for new releases (SSE)

"Active" is "expires after now, or never expires": ``expires__gt=NOW&or=expires__isnull``. ``contains``
keeps the alerts whose CAP polygon holds the point. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import urllib.parse
import urllib.request
from datetime import UTC, datetime


def active_alerts(api: str, lat: float, lon: float, now: str) -> list[dict]:
    query = urllib.parse.urlencode({
        "contains": f"{lat},{lon}", "expires__gt": now, "or": "expires__isnull",
        "select": "id,event,severity,expires,area_desc", "limit": 1000,
    })
    with urllib.request.urlopen(f"{api}/api/v1/datasets/weather-alerts/rows?{query}") as response:
        return json.load(response)["rows"]


def show(alerts: list[dict]) -> None:
    if not alerts:
        print("no active alert covers this place")
    for alert in alerts:
        print(f"{alert['severity']:<9} {alert['event']} until {alert['expires'] or 'further notice'}"
              f" ({alert['area_desc']})")


def follow(api: str, lat: float, lon: float) -> None:
    """Listen for new releases of the alerts (Server-Sent Events) and show the alerts again each time."""
    request = urllib.request.Request(f"{api}/api/v1/events?dataset=weather-alerts&types=release.published",
                                     headers={"Accept": "text/event-stream"})
    with urllib.request.urlopen(request) as stream:
        for line in stream:
            if line.startswith(b"data: "):
                print("new release:", json.loads(line[6:])["release"])
                show(active_alerts(api, lat, lon, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--lat", type=float, required=True)
    parser.add_argument("--lon", type=float, required=True)
    parser.add_argument("--now", default=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                        help="UTC moment the alerts must be active at (default: now)")
    parser.add_argument("--follow", action="store_true", help="keep listening for new releases")
    args = parser.parse_args()
    show(active_alerts(args.api, args.lat, args.lon, args.now))
    if args.follow:
        follow(args.api, args.lat, args.lon)


if __name__ == "__main__":
    main()
