"""Configuration from the environment, and the test helper that writes one for a child process."""

from __future__ import annotations

import os
from unittest import mock

import pytest

from config_vars import config_variables
from fixtures_api import config_env
from service.config import Config

UNUSUAL = Config(
    redis_url="redis://127.0.0.1:6390/3",
    queue_name="q-test",
    max_body_bytes=1234,
    result_ttl=99,
    job_timeout=7,
    job_retries=0,
    extract_wait=0.5,
    stale_after=9,
    data_dir="/tmp/claimwire-data",
    workers=3,
    port=8123,
    api_processes=4,
    max_text_chars=4321,
    max_header_bytes=2048,
    max_queue_depth=5,
    rate_limit="5/second",
    redis_check="refuse",
    fetch_allow_networks=("127.0.0.0/8", "fd00::/8"),
    fetch_ports=(8080,),
    fetch_timeout=2.5,
    fetch_max_bytes=777,
    webhook_retry_schedule=(1, 2),
    max_batch_bytes=4242,
)


def test_config_env_gives_a_child_process_the_same_config() -> None:
    env = config_env(UNUSUAL)
    assert config_variables() <= set(env)
    with mock.patch.dict(os.environ, env, clear=True):
        assert Config.from_env() == UNUSUAL


@pytest.mark.parametrize("value", ["", "off", " OFF "])
def test_an_empty_or_off_rate_limit_means_none(value: str) -> None:
    with mock.patch.dict(os.environ, {"CLAIMWIRE_RATE_LIMIT": value}, clear=True):
        assert Config.from_env().rate_limit is None


def test_an_unknown_redis_check_mode_is_an_error_that_names_the_choices() -> None:
    with mock.patch.dict(os.environ, {"CLAIMWIRE_REDIS_CHECK": "maybe"}, clear=True):
        with pytest.raises(ValueError, match="warn, refuse, off"):
            Config.from_env()


def test_the_private_redis_lives_in_the_data_dir() -> None:
    assert str(UNUSUAL.embedded_redis_dir) == "/tmp/claimwire-data/redis"
