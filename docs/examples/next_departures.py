"""Next departures near me: the nearest stop (a geo filter), then its next departures (the GTFS API).

    python docs/examples/next_departures.py --api http://127.0.0.1:8000 --lat 44.95 --lon -93.25
    python docs/examples/next_departures.py ... --after 2024-03-05T07:55:00-06:00

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import urllib.parse
import urllib.request


def get(api: str, path: str, **params: object) -> dict:
    with urllib.request.urlopen(f"{api}{path}?{urllib.parse.urlencode(params)}") as response:
        return json.load(response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--lat", type=float, required=True)
    parser.add_argument("--lon", type=float, required=True)
    parser.add_argument("--after", help="RFC 3339 moment (default: now)")
    parser.add_argument("--count", type=int, default=5)
    args = parser.parse_args()
    nearest = get(args.api, "/api/v1/datasets/transit-stops/rows", near=f"{args.lat},{args.lon},2000",
                  order="distance", limit=1, select="stop_id,stop_name")["rows"]
    if not nearest:
        print("no stop within 2 km")
        return
    stop = nearest[0]
    print(f"{stop['stop_name']} ({stop['stop_id']}), {stop['distance_m']:.0f} m away")
    params = {"stop": stop["stop_id"], "limit": args.count, **({"after": args.after} if args.after else {})}
    for departure in get(args.api, "/api/v1/transit/transit/departures", **params)["departures"]:
        clock = departure["departs_at"][11:16]
        print(f"  {clock}  route {departure['route_short_name']:<3} to {departure['headsign']}"
              f"  (trip {departure['trip_id']}, GTFS {departure['departure_time']})")


if __name__ == "__main__":
    main()
