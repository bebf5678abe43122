"""The composition root: builds every adapter from settings, lazily, once."""

from __future__ import annotations

import functools
import logging
import os
import socket

import neo4j
import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from adapters.catalogue_sources import SourcePolicy
from adapters.dramatiq_task_queue import DramatiqTaskQueue, make_broker
from adapters.neo4j_norms_graph import Neo4jNormsGraph
from adapters.neo4j_queue_graph import Neo4jQueueGraph
from adapters.redis_coordination import RedisCoordination
from adapters.redis_event_store import RedisEventStore
from adapters.socketio_live_feed import SocketIOLiveFeed
from entrypoints.settings import Settings

REDIS_RETRIES = 2
REDIS_CONNECTIONS = 64
REDIS_POOL_WAIT_S = 10
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s%(ids)s"
ID_KEYS = ("task_id", "event_type", "stream_id", "message_id")


class Container:
    """Everything a process needs, built on first use from one Settings object."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @functools.cached_property
    def redis(self) -> redis.Redis:
        pool = redis.BlockingConnectionPool.from_url(
            self.settings.redis_url,
            max_connections=REDIS_CONNECTIONS,
            timeout=REDIS_POOL_WAIT_S,
            decode_responses=True,
            socket_timeout=10,
            socket_connect_timeout=5,
            health_check_interval=30,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), REDIS_RETRIES),
        )
        return redis.Redis(connection_pool=pool)

    @functools.cached_property
    def neo4j_driver(self) -> neo4j.Driver:
        s = self.settings
        auth = (s.neo4j_user, s.neo4j_password) if s.neo4j_password else None
        return neo4j.GraphDatabase.driver(
            s.neo4j_uri,
            auth=auth,
            connection_timeout=5,
            connection_acquisition_timeout=15,
            max_transaction_retry_time=15,
        )

    @property
    def source_policy(self) -> SourcePolicy:
        s = self.settings
        return SourcePolicy(s.catalogue_roots, s.fetch_private_hosts)

    @functools.cached_property
    def event_store(self) -> RedisEventStore:
        return RedisEventStore(self.redis, self.settings.prefix)

    @functools.cached_property
    def broker(self):
        s = self.settings
        return make_broker(
            s.redis_url, s.prefix, s.broker_heartbeat_ms, s.broker_maintenance_chance
        )

    @functools.cached_property
    def coordination(self) -> RedisCoordination:
        return RedisCoordination(
            self.redis, self.settings.prefix, self.settings.lease_ttl_s
        )

    @functools.cached_property
    def task_queue(self) -> DramatiqTaskQueue:
        return DramatiqTaskQueue(self.broker)

    @functools.cached_property
    def queue_graph(self) -> Neo4jQueueGraph:
        return Neo4jQueueGraph(self.neo4j_driver, self.settings.neo4j_database)

    @functools.cached_property
    def norms_graph(self) -> Neo4jNormsGraph:
        return Neo4jNormsGraph(self.neo4j_driver, self.settings.neo4j_database)

    @functools.cached_property
    def live_feed(self) -> SocketIOLiveFeed:
        return SocketIOLiveFeed(self.settings.redis_url, self.settings.prefix)

    def close(self) -> None:
        if "neo4j_driver" in self.__dict__:
            self.neo4j_driver.close()
        if "redis" in self.__dict__:
            self.redis.close()


def process_name(role: str) -> str:
    return f"{role}@{socket.gethostname()}:{os.getpid()}"


class _IdsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ids = [f"{k}={getattr(record, k)}" for k in ID_KEYS if hasattr(record, k)]
        record.ids = (" " + " ".join(ids)) if ids else ""
        return True


def configure_logging(settings: Settings) -> None:
    """One line per record, with the ids a record carries in ``extra``."""
    handler = logging.StreamHandler()
    handler.addFilter(_IdsFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    logging.getLogger("neo4j").setLevel(logging.WARNING)
    # The server's query notes (an index not yet used, a property no node has yet)
    # are advice about Cypher, not faults of a running system.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
