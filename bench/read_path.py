"""Read path of the API against a bare Flask app answering the same bytes from one Redis GET.

    python bench/read_path.py [--duration 10] [--connections 10 50]

Starts ``claimwire serve`` (private Redis, one worker, one API key, a rate limit far above
what the run reaches), extracts the seed article, then starts a bare Flask app under the
same gunicorn settings (``service.http_server.ApiServer``'s options: processes, gevent workers,
access log) whose two routes answer the exact bytes the service answered for
``GET /v1/articles/{id}/claims`` and ``GET /v1/articles/{id}``, kept in the same Redis
under ``bench:`` keys and read with one GET per request. wrk (loopback, 2 threads) drives
both side by side, ``--duration`` seconds per run, at each connection count: the bare
claims, the service's cached claims, the bare article, the service's article, then
the service only for a filtered read, a paginated read, ``If-None-Match`` (304), and the
cache-hit resubmission ``POST /v1/articles`` (compared with the bare claims GET). Each
run is cut into ``--rounds`` slices, interleaved with the slices of the other runs (in
alternating order), so that load from elsewhere on the machine falls on all of them
alike. Prints requests/s (mean of the slices), p50 and p99 (median of the slices) with
the ratios, and the median of the ratios slice by slice (each slice against the bare app's
slice of the same round, run next to it), which one disturbed slice moves less; the last
line is JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from served import Service, serving  # noqa: E402
from service.embedded_redis import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = next((ROOT / "seeds").glob("*.txt"))
PUBLISHED_AT = "2023-03-21T09:00:00Z"
RATE_LIMIT = "100000000/minute"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
WRK_THREADS = 2
HTTP_TIMEOUT = 10.0
FILTERED = "?min_checkworthiness=0.5"
PAGINATED = "?limit=5"
POST_SCRIPT = """
local f = io.open("{body}", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
"""
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def bare_server(port: int, redis_url: str) -> None:
    """Serve the bare app: gunicorn with the service's own options, one Redis GET per request."""
    from flask import Flask, Response

    from service.config import Config
    from service.http_server import ApiServer
    from service.store import connect

    class BareServer(ApiServer):  # type: ignore[misc]
        def load(self) -> Flask:
            redis = connect(redis_url)
            app = Flask("bare")

            @app.get("/v1/articles/<article_id>")
            def article(article_id: str) -> Response:
                return Response(redis.get(f"bench:article:{article_id}"), mimetype="application/json")

            @app.get("/v1/articles/<article_id>/claims")
            def claims(article_id: str) -> Response:
                return Response(redis.get(f"bench:claims:{article_id}"), mimetype="application/json")

            return app

    BareServer(Config.from_env(), "127.0.0.1", port).run()


def wrk(url: str, connections: int, duration: int, headers: dict[str, str], script: Path | None = None) -> dict:
    """One wrk run: requests/s, p50 and p99 in ms, and the count of error or non-2xx/3xx answers."""
    command = [WRK, f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    percentiles = {p: float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    if "99" not in percentiles:
        raise RuntimeError(f"no latency distribution in wrk's output:\n{out}")
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    bad += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": percentiles["50"],
        "p99_ms": percentiles["99"],
        "errors": bad,
    }


def combine(slices: list[dict]) -> dict:
    """One figure from the interleaved slices of a run: mean rate, median p50 and p99, all errors,
    and the slices' rates in round order."""
    return {
        "rps": statistics.mean(s["rps"] for s in slices),
        "p50_ms": statistics.median(s["p50_ms"] for s in slices),
        "p99_ms": statistics.median(s["p99_ms"] for s in slices),
        "errors": sum(s["errors"] for s in slices),
        "slices_rps": [s["rps"] for s in slices],
    }


def extract_seed(service: Service) -> tuple[str, dict[str, str]]:
    """The seed article's id once extracted, and its submission body."""
    article = {"text": SEED.read_text(encoding="utf-8"), "published_at": PUBLISHED_AT}
    posted = requests.post(f"{service.base}/v1/extract", json=article, headers=service.headers, timeout=60)
    posted.raise_for_status()
    body = posted.json()
    if body["status"] != "done":
        raise RuntimeError(f"the seed article is {body['status']}")
    return body["id"], article


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved slices of each run")
    parser.add_argument("--bare", nargs=2, metavar=("PORT", "REDIS_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare_server(int(args.bare[0]), args.bare[1])
        return

    env = {"CLAIMWIRE_RATE_LIMIT": RATE_LIMIT}
    with serving(workers=1, env=env) as service, tempfile.TemporaryDirectory() as folder:
        article_id, article = extract_seed(service)
        svc = f"{service.base}/v1/articles/{article_id}"
        auth = service.headers
        claims = requests.get(f"{svc}/claims", headers=auth, timeout=HTTP_TIMEOUT)
        shown = requests.get(svc, headers=auth, timeout=HTTP_TIMEOUT)
        etag = claims.headers.get("ETag")
        from redis import Redis

        redis = Redis.from_url(service.redis_url)
        redis.set(f"bench:claims:{article_id}", claims.content)
        redis.set(f"bench:article:{article_id}", shown.content)
        body_file = Path(folder) / "article.json"
        body_file.write_text(json.dumps(article), encoding="utf-8")
        post_script = Path(folder) / "post.lua"
        post_script.write_text(POST_SCRIPT.format(body=body_file), encoding="utf-8")
        resubmitted = requests.post(f"{service.base}/v1/articles", json=article, headers=auth, timeout=HTTP_TIMEOUT)
        revalidated = requests.get(
            f"{svc}/claims", headers={**auth, "If-None-Match": etag or '"none"'}, timeout=HTTP_TIMEOUT
        )
        print(f"seed article {article_id}: claims {len(claims.content):,} bytes, article {len(shown.content):,} bytes, "
              f"ETag {etag}; resubmission {resubmitted.status_code}; If-None-Match {revalidated.status_code}")

        bare_port = free_port()
        bare_log = (Path(folder) / "bare.log").open("wb")
        bare = subprocess.Popen(
            [sys.executable, __file__, "--bare", str(bare_port), service.redis_url],
            stdout=bare_log, stderr=subprocess.STDOUT,
        )
        try:
            bare_base = f"http://127.0.0.1:{bare_port}/v1/articles/{article_id}"
            for _ in range(300):
                try:
                    if requests.get(f"{bare_base}/claims", timeout=1).content == claims.content:
                        break
                except requests.RequestException:
                    time.sleep(0.1)
            else:
                raise RuntimeError("the bare app did not answer the same bytes")

            runs = {
                "bare_claims": (f"{bare_base}/claims", auth, None),
                "claims": (f"{svc}/claims", auth, None),
                "bare_article": (bare_base, auth, None),
                "article": (svc, auth, None),
                "filtered": (f"{svc}/claims{FILTERED}", auth, None),
                "paginated": (f"{svc}/claims{PAGINATED}", auth, None),
                "not_modified": (f"{svc}/claims", {**auth, "If-None-Match": etag or '"none"'}, None),
                "cache_hit_post": (f"{service.base}/v1/articles", auth, post_script),
            }
            results: dict[str, dict[str, dict]] = {}
            for connections in args.connections:
                slices: dict[str, list[dict]] = {name: [] for name in runs}
                for round_ in range(args.rounds):  # interleaved, so that drifting load hits every run alike
                    order = list(runs.items()) if round_ % 2 == 0 else list(reversed(runs.items()))
                    for name, (url, headers, script) in order:
                        slices[name].append(wrk(url, connections, args.duration // args.rounds, headers, script))
                results[str(connections)] = {name: combine(parts) for name, parts in slices.items()}
            api_rss = service.rss_mib("api")
        finally:
            bare.terminate()
            bare.wait(30)
            bare_log.close()

    report(results, api_rss, article_id)


def report(results: dict[str, dict[str, dict]], api_rss: list[float], article_id: str) -> None:
    """A line per run with its ratio to the bare app, then the JSON summary."""
    compare = {"claims": "bare_claims", "article": "bare_article", "filtered": "bare_claims",
               "paginated": "bare_claims", "not_modified": "bare_claims", "cache_hit_post": "bare_claims"}
    summary: dict = {"article_id": article_id, "connections": {}, "api_rss_mib": [round(r) for r in api_rss]}
    print(f"{'conns':>5} {'run':<15} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}  ratio  p99 ratio"
          "  by slice: median (lowest-highest)")
    for connections, runs in results.items():
        summary["connections"][connections] = {}
        for name, figures in runs.items():
            line = (f"{connections:>5} {name:<15} {figures['rps']:8.0f} {figures['p50_ms']:7.2f} "
                    f"{figures['p99_ms']:7.2f} {figures['errors']:6d}")
            entry = {k: round(v, 2) for k, v in figures.items() if k != "slices_rps"}
            if name in compare:
                base = runs[compare[name]]
                entry["ratio"] = round(figures["rps"] / base["rps"], 3)
                entry["p99_ratio"] = round(figures["p99_ms"] / base["p99_ms"], 3)
                paired = [ours / bare for ours, bare in zip(figures["slices_rps"], base["slices_rps"])]
                entry["slice_ratio"] = round(statistics.median(paired), 3)
                line += (f"  {entry['ratio']:.2f}x  {entry['p99_ratio']:.2f}x      {entry['slice_ratio']:.2f}x "
                         f"({min(paired):.2f}-{max(paired):.2f})  vs {compare[name]}")
            print(line)
            summary["connections"][connections][name] = entry
    print(f"API processes RSS (MiB, gunicorn master first): {', '.join(f'{r:.0f}' for r in api_rss)}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
