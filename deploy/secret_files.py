"""Generate a deployment's secrets at deploy time, as env files: never written into a manifest or committed.

    python3 deploy/secret_files.py DIR [--database-url URL] [--database-prefix P] [--smtp-password PW]

Writes, with mode 0600 and only the keys missing from files already there (re-running never rotates a value):

    DIR/database.env      DATABASE_URL (every service and the migration job; one role, a database per service)
                          and POSTGRES_PASSWORD (for the compose stack's own PostgreSQL)
    DIR/checkout.env      CHECKOUT_ADMIN_TOKEN, CHECKOUT_TOKEN_SEAL_KEY and the tokens checkout presents to
                          payment, notification and subscription
    DIR/payment.env       PAYMENT_INTERNAL_TOKEN, PAYMENT_ENCRYPTION_KEY, PAYMENT_TOKEN_SEAL_KEY
    DIR/subscription.env  SUBSCRIPTION_INTERNAL_TOKEN
    DIR/notification.env  NOTIFICATION_INTERNAL_TOKEN (and NOTIFICATION_SMTP__PASSWORD when given)

Each service gets only its own file (compose `env_file`, kustomize `secretGenerator`), so a service's pod never
holds another's keys. A pair that must match (checkout's token for payment = payment's own, the token seal key)
is generated once and written to both files. Without `--database-url` the URL points at the compose stack's
PostgreSQL (`postgres:5432`) with the generated password. `--database-prefix P` also writes each service's own
URL (`CHECKOUT_DATABASE_URL` ... with database `P<service>`), for several deployments on one server. Standard
library only: runs with any Python 3, outside the project's environment too.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
from pathlib import Path


def fernet_key() -> str:
    """A Fernet key (32 random bytes, URL-safe base64), as `Fernet.generate_key()` makes."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def token() -> str:
    return secrets.token_urlsafe(32)


def read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key: value for key, value in pairs}


SERVICES = ("checkout", "payment", "subscription", "notification")


def service_database_urls(base: str, prefix: str) -> dict[str, str]:
    """`<SERVICE>_DATABASE_URL` for each service: `base` with its database name replaced by `prefix+service`."""
    head, _, tail = base.rpartition("/")
    query = tail.partition("?")[2]
    return {f"{s.upper()}_DATABASE_URL": f"{head}/{prefix}{s}" + (f"?{query}" if query else "") for s in SERVICES}


def wanted(existing: dict[str, str], *, database_url: str | None, database_prefix: str | None,
           smtp_password: str | None) -> dict[str, dict[str, str]]:
    """file name -> its keys; values already present in any file are kept."""

    def keep(name: str, make: str) -> str:
        return existing.get(name, make)

    password = keep("POSTGRES_PASSWORD", token())
    internal = {name: keep(f"{name.upper()}_INTERNAL_TOKEN", token())
                for name in ("payment", "notification", "subscription")}
    seal = keep("PAYMENT_TOKEN_SEAL_KEY", fernet_key())
    files = {
        "database.env": {
            "POSTGRES_PASSWORD": password,
            "DATABASE_URL": database_url or keep("DATABASE_URL", f"postgresql://payments:{password}@postgres:5432/postgres"),
        },
        "checkout.env": {  # the tokens it presents equal the services' own (generated once, above)
            "CHECKOUT_ADMIN_TOKEN": keep("CHECKOUT_ADMIN_TOKEN", token()),
            "CHECKOUT_TOKEN_SEAL_KEY": seal,
            **{f"CHECKOUT_{name.upper()}_INTERNAL_TOKEN": value for name, value in internal.items()},
        },
        "payment.env": {
            "PAYMENT_INTERNAL_TOKEN": internal["payment"],
            "PAYMENT_ENCRYPTION_KEY": keep("PAYMENT_ENCRYPTION_KEY", fernet_key()),
            "PAYMENT_TOKEN_SEAL_KEY": seal,
        },
        "subscription.env": {"SUBSCRIPTION_INTERNAL_TOKEN": internal["subscription"]},
        "notification.env": {"NOTIFICATION_INTERNAL_TOKEN": internal["notification"]},
    }
    database = files["database.env"]
    if database_prefix is not None:
        database.update(service_database_urls(database["DATABASE_URL"], database_prefix))
    else:
        database.update({key: value for key, value in existing.items() if key.endswith("_DATABASE_URL")})
    if smtp_password or "NOTIFICATION_SMTP__PASSWORD" in existing:
        files["notification.env"]["NOTIFICATION_SMTP__PASSWORD"] = smtp_password or existing[
            "NOTIFICATION_SMTP__PASSWORD"]
    return files


def write(directory: Path, *, database_url: str | None = None, database_prefix: str | None = None,
          smtp_password: str | None = None) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    existing: dict[str, str] = {}
    for path in sorted(directory.glob("*.env")):
        existing.update(read_env(path))
    written = []
    for name, values in wanted(existing, database_url=database_url, database_prefix=database_prefix,
                                       smtp_password=smtp_password).items():
        path = directory / name
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 deploy/secret_files.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--database-url", help="postgresql://USER:PASSWORD@HOST:5432/postgres of your server")
    parser.add_argument("--database-prefix", help="one database per service named PREFIX<service>")
    parser.add_argument("--smtp-password", help="the SMTP relay's password, if it wants one")
    args = parser.parse_args(argv)
    for path in write(args.directory, database_url=args.database_url, database_prefix=args.database_prefix,
                      smtp_password=args.smtp_password):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
