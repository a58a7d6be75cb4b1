"""A throwaway PostgreSQL cluster for the tests: initdb and pg_ctl from Debian's package
(``make system-deps`` installs it), in a temporary folder, on a free port, as a non-root user.

Nothing is skipped: without the binaries the tests that use it fail with the install command.
PostgreSQL refuses to run as root (CI runs as root): then every command runs as the ``postgres``
user that the Debian package creates (``runuser -u postgres``). Password authentication is on,
so the tests' URL carries a real password (and the tests check it is never printed).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from server_support import free_port

PASSWORD = "pg-Secret-7f3a9c"  # the tests assert this never appears in logs or answers
USER = "hepatorisk"


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    pytest.fail(
        "PostgreSQL server binaries (initdb, pg_ctl) are missing: install them with "
        "`make system-deps` (apt-get install postgresql); these tests need a real server",
        pytrace=False,
    )


@dataclass
class Postgres:
    """One running cluster; ``stop()`` and ``start()`` it to simulate an outage."""

    bindir: Path
    folder: Path
    port: int
    as_user: list[str]

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        cmd = [*self.as_user, *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise AssertionError(f"{' '.join(args[:2])} failed: {done.stderr[-2000:]}\n{log}")

    def pg_ctl(self, *args: str) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), *args)

    def start(self) -> None:
        self.pg_ctl("-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: a clean shutdown; ``immediate``: as a crash (recovery at the next start)."""
        self.pg_ctl("-m", mode, "-w", "stop")

    def psql(self, sql: str, database: str = "postgres") -> str:
        cmd = [*self.as_user, str(self.bindir / "psql"), "-h", str(self.folder), "-p",
               str(self.port), "-U", "postgres", "-d", database, "-At", "-c", sql]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def create_database(self, name: str) -> str:
        self.psql(f"CREATE DATABASE {name} OWNER {USER}")
        return self.url(name)

    def create_database_owned(self, name: str, owner: str) -> None:
        """A database owned by another role (as the postgres image's POSTGRES_DB/USER make)."""
        self.psql(f"CREATE DATABASE {name} OWNER {owner}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bindir = _bindir()
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="hepatorisk-pg-"))
    if os.geteuid() == 0:  # postgres will not run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres", "postgres")
    pg = Postgres(bindir, folder, free_port(), as_user)
    pwfile = folder / "pw"
    pwfile.write_text("unused-superuser-password\n")
    if as_user:
        shutil.chown(pwfile, "postgres", "postgres")
    pg._run(str(bindir / "initdb"), "-D", str(pg.data), "-U", "postgres", "--pwfile", str(pwfile),
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
            "--no-sync")  # fmt: skip
    with (pg.data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {pg.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{folder}'\nmax_connections = 200\n"
            # the server's durability defaults, stated: what the audit's guarantee rests on
            "fsync = on\nsynchronous_commit = on\n"
        )
    pg.start()
    pg.psql(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
    try:
        yield pg
    finally:
        with contextlib.suppress(AssertionError):
            pg.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def wait_for(predicate, timeout: float, step: float = 0.05) -> float:  # type: ignore[no-untyped-def]
    """Seconds until ``predicate()`` is true (AssertionError after ``timeout``)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s")
