"""Configuration from the environment, and the test helper that writes one for a child process."""

from __future__ import annotations

import os
from unittest import mock

import pytest

from service.config import SETTINGS, Config
from support.fixtures_api import config_env

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
    redis_maxmemory="300mb",
    body_timeout=2.5,
    auth_failure_limit="7/minute",
    job_memory_mb=1500,
    view_link_ttl=120,
    view_secret="a-view-secret",
    metrics_allow=("10.0.0.0/8", "::1/128"),
    metrics_token="a-metrics-token",
    metrics_dir="/tmp/claimwire-metrics",
    fetch_allow_networks=("127.0.0.0/8", "fd00::/8"),
    fetch_ports=(8080,),
    fetch_timeout=2.5,
    fetch_max_bytes=777,
    webhook_retry_schedule=(1, 2),
    max_batch_bytes=4242,
)


def test_config_env_gives_a_child_process_the_same_config() -> None:
    env = config_env(UNUSUAL)
    assert {declared.env for declared in SETTINGS} <= set(env)
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


@pytest.mark.parametrize("value", ["1gb", "512MB", "100000", "64m"])
def test_a_redis_maxmemory_in_redis_units_is_taken(value: str) -> None:
    with mock.patch.dict(os.environ, {"CLAIMWIRE_REDIS_MAXMEMORY": value}, clear=True):
        assert Config.from_env().redis_maxmemory == value.lower()


@pytest.mark.parametrize("value", ["lots", "1.5gb", "-1", "1tb", "1gb; requirepass x"])
def test_a_redis_maxmemory_that_is_not_a_size_is_an_error(value: str) -> None:
    with mock.patch.dict(os.environ, {"CLAIMWIRE_REDIS_MAXMEMORY": value}, clear=True):
        with pytest.raises(ValueError, match="CLAIMWIRE_REDIS_MAXMEMORY"):
            Config.from_env()


def test_every_setting_is_declared_with_a_variable_and_a_meaning() -> None:
    assert len({declared.env for declared in SETTINGS}) == len(SETTINGS)
    assert all(declared.env and declared.meaning for declared in SETTINGS)


def test_a_malformed_number_is_an_error_that_names_its_variable() -> None:
    with mock.patch.dict(os.environ, {"CLAIMWIRE_JOB_TIMEOUT": "five"}, clear=True):
        with pytest.raises(ValueError, match="CLAIMWIRE_JOB_TIMEOUT must be a whole number"):
            Config.from_env()
