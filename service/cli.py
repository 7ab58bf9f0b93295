"""The ``claimwire`` command: run the service or its parts, extract claims offline.

Every command reads its settings with :meth:`Config.from_env`; the options only
override what a command line naturally says (port, number of workers). Each command
imports what it runs when it runs, so ``claimwire --help`` does not load spaCy or gunicorn.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from service.config import Config

if TYPE_CHECKING:
    from redis import Redis

    from service.keys import ApiKeys

DEFAULT_HOST = "127.0.0.1"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Claimwire: news articles in, structured attributed claims out."""
    from service.logs import configure_logging

    configure_logging()


host_option = click.option(
    "--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on (0.0.0.0 for all)."
)


@main.command()
@host_option
@click.option("--port", type=int, help="HTTP port  [default: $PORT or 8000]")
@click.option("--workers", type=click.IntRange(min=1), help="Extraction workers  [default: $CLAIMWIRE_WORKERS or 2]")
def serve(host: str, port: int | None, workers: int | None) -> None:
    """Run the whole service: Redis (unless REDIS_URL is set), workers and the API."""
    from service.supervisor import serve as run_service

    config = Config.from_env()
    if config.redis_url:
        _check_redis(config)
    sys.exit(run_service(config, host, port or config.port, workers or config.workers))


@main.command()
@host_option
@click.option("--port", type=int, help="HTTP port  [default: $PORT or 8000]")
def api(host: str, port: int | None) -> None:
    """Run the HTTP API alone (gunicorn, $CLAIMWIRE_API_PROCESSES processes)."""
    from service.metrics_dir import private_multiproc_dir

    config = Config.from_env()
    with private_multiproc_dir():  # before prometheus_client is imported
        from service.http_server import run_api
        from service.startup_checks import announce_access

        announce_access(_check_redis(config))
        run_api(config, host, port or config.port)


@main.command()
@click.option("--burst", is_flag=True, help="Work off the queue, then exit.")
def worker(burst: bool) -> None:
    """Run one extraction worker on the queue."""
    from workers.worker import run_worker

    config = Config.from_env()
    _check_redis(config)
    run_worker(config, burst=burst)


@main.command("webhook-worker")
@click.option("--burst", is_flag=True, help="Work off the queue, then exit.")
def webhook_worker(burst: bool) -> None:
    """Run one webhook delivery worker (its own queue: receivers never slow extraction)."""
    from workers.delivery_worker import run_delivery_worker

    config = Config.from_env()
    _check_redis(config)
    run_delivery_worker(config, burst=burst)


@main.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--published-at",
    type=datetime.fromisoformat,
    help="Publication time (ISO 8601), the anchor of relative dates such as 'on Tuesday'.",
)
def extract(file: TextIO, published_at: datetime | None) -> None:
    """Print the claims of a text FILE as JSON ('-' reads stdin); no server needed."""
    from workers.claims import dump_extraction
    from workers.pipeline import get_extractor

    extraction = get_extractor().extract(file.read(), published_at=published_at)
    click.echo(json.dumps(dump_extraction(extraction), ensure_ascii=False, indent=2))


@main.command()
@click.argument("gold", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("predictions", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def predict(gold: Path, predictions: Path) -> None:
    """Write claims in the evaluation format for every document of GOLD (JSONL) to PREDICTIONS."""
    from workers.predict import predict_file

    count = predict_file(gold, predictions)
    click.echo(f"wrote {count} predictions to {predictions}", err=True)


@main.command("build-encoder")
def build_encoder() -> None:
    """Check the pretrained encoder's weights and build its int8 graph (make install runs this)."""
    from workers.pipeline.encoder import ENCODER_FILE, get_encoder

    get_encoder()
    click.echo(f"encoder ready: {ENCODER_FILE}")


@main.group()
def keys() -> None:
    """Manage API keys (with none, the API is open to anyone who can reach it)."""


@keys.command("create")
@click.option("--name", required=True, help="Who or what the key is for, e.g. 'newsroom-cms'.")
def keys_create(name: str) -> None:
    """Create a key and print it; it is shown this once and stored only as a hash."""
    api_key, token = _api_keys().create(name)
    click.echo(f"created key {api_key.id} ({api_key.name}); keep it now, it cannot be shown again:", err=True)
    click.echo(token)


@keys.command("list")
def keys_list() -> None:
    """List the keys: id, creation time and name (never the key itself)."""
    for api_key in _api_keys().list():
        click.echo(f"{api_key.id}\t{api_key.created_at}\t{api_key.name}")


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke the key KEY_ID (as shown by `keys list`); it stops working at once."""
    api_keys = _api_keys()
    if not api_keys.revoke(key_id):
        raise click.ClickException(f"there is no key {key_id!r}")
    click.echo(f"revoked key {key_id}", err=True)
    if not api_keys.any():
        click.echo(
            "no key is left: the API stays closed (every request 401) until you create a key, "
            "or open it to callers without a key with `claimwire keys open`",
            err=True,
        )


@keys.command("open")
def keys_open() -> None:
    """Open the API to callers without a key, once every key is revoked.

    They see only the articles submitted without a key, never those of a key.
    """
    if not _api_keys().open_access():
        raise click.ClickException("keys exist: revoke them all first (`claimwire keys list`)")
    click.echo("the API is open: anyone who can reach it may call it without a key", err=True)


def _api_keys() -> "ApiKeys":
    """Keys in ``REDIS_URL``, else in the private Redis a running ``serve`` recorded, else the default."""
    from service.embedded_redis import recorded_url
    from service.keys import ApiKeys
    from service.store import connect

    config = Config.from_env()
    return ApiKeys(connect(config.redis_url or recorded_url(config.embedded_redis_dir)))


def _check_redis(config: Config) -> "Redis":
    """Wait for Redis, then refuse to start (or warn) when it could lose accepted articles, and warn
    when it needs no password; the client."""
    from redis.exceptions import RedisError

    from service.startup_checks import PersistenceError, check_authentication, check_persistence, wait_for_redis
    from service.store import connect

    redis = connect(config.redis_url)
    try:
        wait_for_redis(redis)
        check_persistence(redis, config.redis_check)
        check_authentication(redis, config.redis_check)
    except RedisError as exc:
        raise click.ClickException(f"Redis does not answer: {exc}") from None
    except PersistenceError as exc:
        raise click.ClickException(str(exc)) from None
    return redis


if __name__ == "__main__":
    main()
