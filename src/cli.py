"""`footfall`: run the API, the flushers, the embedded dev stack, and admin tasks."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from footfall import logs, metrics, reach
from footfall.connections import mongo_database, redis_client
from footfall.deadletters.cli import dead_letters
from footfall.edx.cli import edx_group, import_group
from footfall.enrich.cli import events
from footfall.export import export
from footfall.learners.cli import learners
from footfall.reapply.cli import progress, redact_command
from footfall.security.cli import dev_key, keys_group, sync_mirror
from footfall.settings import Settings
from footfall.status import status


@click.group()
def main() -> None:
    """Footfall: collects user-activity logs, keeps every one, turns them into answers.

    Settings come from the environment and `.env` (see `.env.example`). The commands
    that run servers or change the database log as LOG_LEVEL and LOG_FORMAT say; the
    short admin commands (keys, events) print their answers only.
    """


@main.command("init-db")
def init_db_command() -> None:
    """Create or update collections, validators and indexes (idempotent)."""
    from footfall.store.schema import init_db

    settings = Settings()
    logs.configure(settings)
    init_db(mongo_database(settings.servers), settings.retention)
    click.echo("database ready")


@main.command()
@click.option("--workers", type=int, default=None, help="API worker processes [WORKERS].")
@click.option("--host", default=None, help="Address to bind [HOST].")
@click.option("--port", type=int, default=None, help="Port to bind [PORT].")
def serve(workers: int | None, host: str | None, port: int | None) -> None:
    """Run the API (no flusher): stateless, run as many as you like behind a balancer."""
    import uvicorn

    from footfall.store.schema import init_db

    settings = Settings()
    logs.configure(settings)
    db = mongo_database(settings.servers)
    init_db(db, settings.retention)
    sync_mirror(db, settings)
    metrics.multiprocess_dir(port or settings.api.port)  # before prometheus-client's import
    from footfall.metrics.api import serve_internal

    serve_internal(settings, redis_client(settings.servers))
    uvicorn.run(
        "footfall.app:create_app",
        factory=True,
        host=host or settings.api.host,
        port=port or settings.api.port,
        workers=workers or settings.api.workers,
        # The client address is decided by TRUSTED_PROXIES in Footfall itself.
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_config=logs.dict_config(settings),  # applied in every worker process
        log_level=settings.logging.log_level.lower(),
        loop="uvloop" if _has("uvloop") else "asyncio",
        http="httptools" if _has("httptools") else "h11",
    )


@main.command()
def flush() -> None:
    """Move queued events into MongoDB; run any number, each a consumer of one group.

    SIGTERM or Ctrl-C finishes the batch in hand, then exits.
    """
    os.environ.pop(metrics.ENV, None)  # a flusher's values are its own (its own port)
    from footfall.flusher import Flusher
    from footfall.metrics.flusher import serve as serve_metrics

    settings = Settings()
    logs.configure(settings)
    flusher = Flusher(settings, redis_client(settings.servers), mongo_database(settings.servers))
    serve_metrics(settings, flusher.streams.redis, flusher.collections)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: flusher.stop())
    flusher.run()


@main.command()
@click.option("--port", type=int, default=None, help="API port [PORT].")
def dev(port: int | None) -> None:
    """Everything on this machine: embedded Valkey and MongoDB, the API, one flusher.

    Data lives in DATA_DIR (default ./.footfall) and survives a restart.
    Ctrl-C stops everything.
    """
    from footfall.embedded import EmbeddedMongo, EmbeddedValkey

    settings = Settings()
    logs.configure(settings)
    embedded = settings.embedded
    data = embedded.data_dir.resolve()
    redis = EmbeddedValkey(
        data / "valkey", embedded.dev_redis_port, embedded.redis_appendfsync
    ).start()
    mongo = EmbeddedMongo(data / "mongo", embedded.dev_mongo_port).start()
    api_port = port or settings.api.port
    env = {**os.environ, "REDIS_URL": redis.url, "MONGO_URI": mongo.uri, "PORT": str(api_port)}
    children: list[subprocess.Popen[bytes]] = []
    try:
        children.append(_spawn(["serve", "--workers", "1"], env))
        children.append(_spawn(["flush"], env))
        base = f"http://{settings.api.host}:{api_port}/api/v1"
        _wait_http(f"{base}/health", children)
        servers = settings.replace({"mongo_uri": mongo.uri, "redis_url": redis.url})
        api_key = _dev_key(servers, data, [settings.api.host, "localhost"], api_port)
        reach.record(data, redis.url, mongo.uri, base)  # for the other commands
        for name, value in [
            ("api", base),
            ("swagger ui", f"{base}/ui/"),
            ("api key", api_key),
            ("redis url", redis.url),
            ("mongodb uri", mongo.uri),
            ("data dir", str(data)),
        ]:
            click.echo(f"{name}: {value}")
        _wait_children(children)
    finally:
        reach.forget(data)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()
        mongo.stop()
        redis.stop()
        click.echo("stopped", err=True)


def _dev_key(settings: Settings, data: Path, hosts: list[str], port: int) -> str:
    """The dev key (every scope; browser origins: the API's own), kept in DATA_DIR, and
    mirrored into Redis with the other keys."""
    db = mongo_database(settings.servers)
    try:
        key = dev_key(db, data, [f"http://{host}:{port}" for host in hosts])
        sync_mirror(db, settings)
        return key
    finally:
        db.client.close()


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "footfall", *args], env=env, start_new_session=True
    )


def _wait_children(children: list[subprocess.Popen[bytes]]) -> None:
    """Until Ctrl-C / SIGTERM, or until a child dies (then everything stops)."""
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop["now"]:
        if any(child.poll() is not None for child in children):
            click.echo("a footfall process exited; stopping", err=True)
            return
        time.sleep(0.2)


def _wait_http(url: str, children: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise click.ClickException("the API or the flusher did not start")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise click.ClickException(f"{url} did not answer in {timeout} s")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


main.add_command(dead_letters)
main.add_command(status)
main.add_command(events)
main.add_command(keys_group)
main.add_command(learners)
main.add_command(progress)
main.add_command(redact_command)
main.add_command(export)
main.add_command(import_group)
main.add_command(edx_group)

#: The servers each command needs (every command not named: MongoDB); `dev` runs its own.
_NEEDS = {"dev": (), "serve": (reach.REDIS, reach.MONGODB), "flush": (reach.REDIS, reach.MONGODB)}


def _reaching_servers(command: click.Command, name: str) -> None:
    """Run `command` against a running `footfall dev`'s servers when no URL is set, and
    answer a server out of reach with one line (`footfall.reach`), never a traceback.

    Wraps the callbacks of every command, the `keys` and `events` groups' too, after
    click parsed the arguments: `--help` needs no server."""
    if isinstance(command, click.Group):
        for sub_name, sub in command.commands.items():
            _reaching_servers(sub, sub_name)
        return
    needs = _NEEDS.get(name, (reach.MONGODB,))
    callback = command.callback
    if not needs or callback is None:
        return

    @functools.wraps(callback)
    def reaching(*args: object, **kwargs: object) -> object:
        dev_record = reach.use_dev_servers()
        settings = Settings()
        reach.require(settings, needs, dev_record)
        try:
            return callback(*args, **kwargs)
        except reach.CONNECTION_ERRORS as error:
            raise reach.unreachable(settings, reach.server_of(error), dev_record) from error

    command.callback = reaching


_reaching_servers(main, "footfall")

if __name__ == "__main__":
    main()
