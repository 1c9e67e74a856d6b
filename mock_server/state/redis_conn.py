"""The Redis store's connection and key names: a ``redis://`` or ``rediss://`` URL opened
with redis-py's connection pool (the password from the URL or SHORTAPI_MOCK_REDIS_PASSWORD,
never printed: `redact` is what banners and errors show), checked with a PING so a bad URL
or an unreachable server (or a TLS certificate not trusted: ``?ssl_ca_certs=``) is a
ConfigError that says how to fix it; and `Keys`, every key the
store writes, under one prefix, so that a reset deletes only the mock's own keys."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar
from urllib.parse import urlsplit, urlunsplit

from mock_server.errors import ConfigError

PASSWORD_ENV = "SHORTAPI_MOCK_REDIS_PASSWORD"
DEFAULT_PREFIX = "shortapi-mock:"
SCHEMES = ("redis://", "rediss://")
_CONNECT_TIMEOUT = 5.0  # wall seconds to connect; a request waits this long at most
_SOCKET_TIMEOUT = 30.0  # wall seconds one command may take

T = TypeVar("T")


def is_redis_url(url: str) -> bool:
    """Say whether `url` names a Redis store."""
    return url.startswith(SCHEMES)


def redact(url: str) -> str:
    """Return `url` with its password (if any) replaced by ``***``, for logs and errors."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("@")[-1] if "@" in url else url
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _url_problem(url: str) -> str | None:
    """Say what is wrong with the Redis URL `url` (None: nothing)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return str(exc)
    if not parts.hostname:
        return "no host"
    if port is not None and not 0 < port < 65536:
        return f"port {port} out of range"
    db = parts.path.strip("/")
    if db and not db.isdigit():
        return f"the database {db!r} is not a number"
    return None


def connect(url: str) -> Client:
    """Open a pooled client of the Redis server at `url` and check that it answers."""
    shown = redact(url)
    if problem := _url_problem(url):
        raise ConfigError(
            f"bad Redis URL {shown}: {problem}; use redis://HOST:PORT/DB or "
            f"rediss://HOST:PORT/DB (password in the URL, redis://:PASSWORD@HOST:PORT/DB, "
            f"or in ${PASSWORD_ENV})"
        )
    import redis  # here, not at the top: a mock on SQLite never loads redis-py (~20 MB)

    password = None if urlsplit(url).password else os.environ.get(PASSWORD_ENV) or None
    try:
        client = redis.Redis.from_url(
            url,
            password=password,
            socket_connect_timeout=_CONNECT_TIMEOUT,
            socket_timeout=_SOCKET_TIMEOUT,
            health_check_interval=30,
        )
    except ValueError as exc:
        raise ConfigError(
            f"bad Redis URL {shown}: {exc}; use redis://HOST:PORT/DB or rediss://HOST:PORT/DB "
            f"(password in the URL, redis://:PASSWORD@HOST:PORT/DB, or in ${PASSWORD_ENV})"
        ) from None
    try:
        client.ping()
    except redis.AuthenticationError as exc:
        client.close()
        raise ConfigError(
            f"Redis at {shown} refused the password: {exc}; set it in the URL "
            f"(redis://:PASSWORD@HOST:PORT/DB) or in ${PASSWORD_ENV}"
        ) from None
    except redis.ResponseError as exc:
        client.close()
        raise ConfigError(
            f"Redis at {shown} answered {exc}; if it needs a password, set it in the URL "
            f"or in ${PASSWORD_ENV}"
        ) from None
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        client.close()
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            raise ConfigError(
                f"Redis at {shown}: its TLS certificate is not trusted ({exc}); name the CA "
                "that signed it in the URL, rediss://HOST:PORT/DB?ssl_ca_certs=/path/ca.pem "
                "(redis-py's URL options)"
            ) from None
        raise ConfigError(
            f"cannot reach Redis at {shown}: {exc}; start it (e.g. `redis-server --port "
            f"{urlsplit(url).port or 6379}`) or fix --store redis://HOST:PORT/DB"
        ) from None
    return client


# redis-py types every answer as the union of what the async client and `decode_responses`
# could give (`int | Awaitable[int]`, `bytes | str`). The store uses the synchronous client
# with bytes answers only, so it holds the client as `Client` and types what it reads at the
# parsers (job_of, account_of, ...), instead of a cast at each of its ~100 calls.
Client: TypeAlias = Any
Pipe: TypeAlias = Any  # a redis-py Pipeline, held as Client is


def transact(client: Client, run: Callable[[Pipe], T], *watched: str) -> T:
    """Run `run` as an optimistic transaction: WATCH the `watched` keys, let `run` read (with
    any client) and decide, then queue its writes after ``pipe.multi()``; if another client
    changed a watched key before EXEC, Redis refuses it and `run` goes again on fresh data.
    What `run` raises (an admission refused) ends it with nothing written."""
    import redis

    with client.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(*watched)
                value = run(pipe)
                if pipe.explicit_transaction:  # run queued writes (else: a read, nothing to do)
                    pipe.execute()
                return value
            except redis.WatchError:
                continue


class Keys:
    """The names of every key the store writes, all starting with `prefix`."""

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        self.prefix = prefix
        p = prefix
        # Sequences survive a reset (ids never repeat, as in the other stores).
        self.seq_jobs, self.seq_deliveries = f"{p}seq:jobs", f"{p}seq:deliveries"
        self.seq_injections, self.seq_journal = f"{p}seq:injections", f"{p}seq:journal"
        self.seq_uploads = f"{p}seq:uploads"
        self.jobs = f"{p}jobs"  # zset: job id -> creation sequence
        self.due = f"{p}jobs:due"  # zset: job id -> next_event_at (only when not None)
        self.runtime = f"{p}runtime"
        self.injections = f"{p}injections"  # hash: id -> JSON
        self.counters = f"{p}counters"  # hash: name -> count
        self.deliveries = f"{p}deliveries"  # hash: id -> JSON
        self.delivery_ids = f"{p}deliveries:ids"  # zset: id -> id
        self.pending = f"{p}deliveries:pending"  # zset: id -> due_at
        self.claims = f"{p}deliveries:claims"  # hash: id -> claimed_until (wall)
        self.journal = f"{p}journal"  # stream; entry ids "<n>-0", n from seq_journal
        self.uploads = f"{p}uploads"  # zset: id -> sequence (newest highest)
        self.upload_sizes, self.upload_types = f"{p}uploads:size", f"{p}uploads:type"
        self.upload_data = f"{p}uploads:data"

    def job(self, job_id: str) -> str:
        """The hash of one job."""
        return f"{self.prefix}job:{job_id}"

    def owner_jobs(self, owner: str) -> str:
        """The zset of one owner's jobs (job id -> creation sequence)."""
        return f"{self.prefix}owner:{owner}:jobs"

    def in_flight(self, owner: str) -> str:
        """The set of one owner's jobs not settled yet (stage before DONE)."""
        return f"{self.prefix}owner:{owner}:in-flight"

    def account(self, owner: str) -> str:
        """One account's JSON."""
        return f"{self.prefix}account:{owner}"

    def job_deliveries(self, job_id: str) -> str:
        """The set of one job's delivery ids."""
        return f"{self.prefix}job:{job_id}:deliveries"

    def match_all(self) -> str:
        """A SCAN pattern matching every key under the prefix (glob characters escaped)."""
        escaped = "".join(f"\\{c}" if c in "*?[]\\" else c for c in self.prefix)
        return f"{escaped}*"
