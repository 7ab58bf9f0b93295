"""CPU time and Redis round trips per request of the API's reads, in one process, without HTTP.

    python bench/read_cost.py [--requests 2000] [--profile claims]

Starts a private Redis, creates one API key, sets a rate limit far above what the run
reaches, extracts the seed article in this process, then sends each request
``--requests`` times straight to the app's WSGI callable, as gunicorn calls it, with an
environ built once (one thread, no gunicorn, no network but the Redis loopback; Flask's
test client would add its own URL building, a quarter of the profile): the cached claims,
the article, the claims with a matching ``If-None-Match``, a filtered and a paginated read,
and the cache-hit resubmission, and the bare app's claims GET (one Redis GET) for comparison.
Prints, per request, the process CPU time and the Redis server's CPU time in microseconds,
and the Redis round trips (socket writes); with ``--profile NAME`` also cProfile's top
functions of that request, by CPU time. The last line is JSON.
This is where the overhead is found; ``read_path.py`` measures what a client sees.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import json
import logging
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# As under gunicorn: metrics in files shared by the processes (chosen when prometheus_client is imported).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="claimwire-bench-metrics-"))

from flask import Flask, Response  # noqa: E402
from redis import Redis  # noqa: E402
from redis.connection import Connection  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from service.app import create_app  # noqa: E402
from service.config import Config  # noqa: E402
from service.embedded_redis import EmbeddedRedis  # noqa: E402
from service.keys import ApiKeys  # noqa: E402
from service.logs import json_handler, skip_unused_record_fields  # noqa: E402
from service.store import connect  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = next((ROOT / "seeds").glob("*.txt"))
PUBLISHED_AT = "2023-03-21T09:00:00Z"
RATE_LIMIT = "100000000/minute"
WARM_UP = 50


class RoundTrips:
    """Counts the commands (or pipelines) sent to Redis: one socket write each."""

    count = 0
    _send = Connection.send_packed_command

    @classmethod
    def install(cls) -> None:
        def counted(connection: Connection, command: object, check_health: bool = True) -> None:
            cls.count += 1
            cls._send(connection, command, check_health)

        Connection.send_packed_command = counted  # type: ignore[method-assign]


def bare_app(redis_url: str, claims: bytes) -> Flask:
    """The bare app of ``read_path.py``: one Redis GET per request."""
    redis = connect(redis_url)
    redis.set("bench:claims", claims)
    app = Flask("bare")

    @app.get("/claims")
    def bare_claims() -> Response:
        return Response(redis.get("bench:claims"), mimetype="application/json")

    return app


def wsgi_sender(app: Callable[..., Iterable[bytes]]) -> Callable[..., Callable[[], int]]:
    """``send(method, path, headers, body)``: a call of ``app`` as gunicorn makes it, answering the status code."""

    def send(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Callable[[], int]:
        base, query = path.partition("?")[::2]
        environ = EnvironBuilder(
            method=method, path=base, query_string=query, data=body, headers={"Accept": "*/*", **(headers or {})},
            content_type="application/json" if body else None,
        ).get_environ()
        environ["REMOTE_ADDR"] = "127.0.0.1"
        status: list[str] = []

        def start_response(line: str, _headers: list, _exc: object = None) -> None:
            status.append(line)

        def call() -> int:
            status.clear()
            request = dict(environ, **{"wsgi.input": io.BytesIO(body)})
            for _ in app(request, start_response):
                pass
            return int(status[0].split()[0])

        return call

    return send


def redis_usec(redis: Redis) -> float:
    """CPU microseconds the Redis server used so far (``INFO cpu``: commands, scripts and its sockets)."""
    cpu = redis.info("cpu")
    return (cpu["used_cpu_user"] + cpu["used_cpu_sys"]) * 1e6


def measure(send: Callable[[], object], requests: int, profile: bool, redis: Redis) -> dict[str, float]:
    """CPU microseconds of this process and of Redis and round trips per call of ``send``, after a warm-up."""
    for _ in range(WARM_UP):
        send()
    before_redis = redis_usec(redis)
    profiler = cProfile.Profile(time.process_time) if profile else None
    before_trips, before_cpu = RoundTrips.count, time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(requests):
        send()
    if profiler:
        profiler.disable()
    cpu = time.process_time() - before_cpu
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"service/|logging|prometheus|flask/app|werkzeug/(wrappers|sansio)|gate|redis/client", 45)
    trips = round((RoundTrips.count - before_trips) / requests, 2)
    redis_cpu = (redis_usec(redis) - before_redis) / requests
    return {"cpu_us": round(cpu / requests * 1e6), "redis_us": round(redis_cpu, 1), "round_trips": trips}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", help="the request to profile (a name in the output)")
    args = parser.parse_args()
    RoundTrips.install()
    with open(os.devnull, "w") as devnull:  # the JSON log line of every request, as under gunicorn
        handler = json_handler()
        handler.setStream(devnull)
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        skip_unused_record_fields()  # as every claimwire process does (configure_logging)
        run(args)


def run(args: argparse.Namespace) -> None:
    """Measure every request of the run."""
    with tempfile.TemporaryDirectory() as folder, EmbeddedRedis(Path(folder) / "redis") as redis_server:
        config = dataclasses.replace(Config.from_env(), redis_url=redis_server.url, rate_limit=RATE_LIMIT)
        redis = connect(config.redis_url)
        _, token = ApiKeys(redis).create("bench")
        auth = {"Authorization": f"Bearer {token}"}
        app = create_app(config)
        client = app.test_client()  # for the set-up; the measured requests go straight to ``app``
        article = {"text": SEED.read_text(encoding="utf-8"), "published_at": PUBLISHED_AT}
        article_id = client.post("/v1/articles", json=article, headers=auth).get_json()["id"]
        from workers.jobs import extract_article
        from workers.worker_config import use_config

        use_config(config)
        extract_article(article_id)
        path = f"/v1/articles/{article_id}"
        claims = client.get(f"{path}/claims", headers=auth)
        assert claims.status_code == 200 and claims.headers.get("ETag"), claims.status_code
        matching = {**auth, "If-None-Match": claims.headers["ETag"]}
        service = wsgi_sender(app)
        bare_send = wsgi_sender(bare_app(config.redis_url, claims.data))
        posted = json.dumps(article).encode()
        runs: dict[str, tuple[Callable[[], int], int]] = {
            "bare_claims": (bare_send("GET", "/claims"), 200),
            "claims": (service("GET", f"{path}/claims", auth), 200),
            "article": (service("GET", path, auth), 200),
            "not_modified": (service("GET", f"{path}/claims", matching), 304),
            "filtered": (service("GET", f"{path}/claims?min_checkworthiness=0.5", auth), 200),
            "paginated": (service("GET", f"{path}/claims?limit=5", auth), 200),
            "cache_hit_post": (service("POST", "/v1/articles", auth, posted), 200),
        }
        results = {}
        for name, (send, status) in runs.items():
            answered = send()
            if answered != status:
                raise RuntimeError(f"{name}: {answered}, not {status}")
            results[name] = measure(send, args.requests, args.profile == name, redis)
            figures = results[name]
            print(f"{name:<15} {figures['cpu_us']:6d} us CPU  {figures['redis_us']:6.1f} us in Redis  "
                  f"{figures['round_trips']:5.2f} Redis round trips")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
