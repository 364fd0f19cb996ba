"""``headrace tokens``: create (shown once), list and revoke API tokens."""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Annotated

import typer

from headrace import config, errors
from headrace.model.clock import now_ms
from headrace.service.tokens import ROLES, TokenService, state_of
from headrace.store.database import Store

app = typer.Typer(help="API tokens: each grants one user of one tenant a role.")

StoreOption = Annotated[
    str | None,
    typer.Option(envvar="HEADRACE_STORE", help="Database URL (default: embedded SQLite)."),
]
ConfigOption = Annotated[str | None, typer.Option("--config", help="config.yaml to read.")]


def _service(store: str | None, config_file: str | None) -> tuple[Store, TokenService]:
    settings = config.load(config_file)
    opened = Store(store or settings.store)
    return opened, TokenService(opened)


@app.command()
def create(
    tenant: Annotated[str, typer.Option(help="Tenant: a UUID or a name ('default' too).")],
    user: Annotated[str, typer.Option(help="User: a UUID or a name.")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")] = "operator",
    expires_in: Annotated[
        str | None,
        typer.Option(help="Stop working this much later: 30d, 12h, 15m, 90s (default: never)."),
    ] = None,
    store: StoreOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Create a token; it is printed once, as the last word, and only its hash is kept."""
    try:
        opened, service = _service(store, config_file)
        try:
            token, record = service.create(tenant, user, role, expires_in)
        finally:
            opened.close()
    except errors.HeadraceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"token {record.token_id} for user {record.user_name} ({record.user_id}) of tenant "
        f"{record.tenant_name} ({record.tenant_id}), role {record.role}, "
        f"expires {_when(record.expires_at_ms, 'never')}; it is shown only now:"
    )
    typer.echo(token)


@app.command("ls")
def list_tokens(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's tokens.")] = None,
    store: StoreOption = None,
    config_file: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """List tokens: id, tenant, user, role, state, expiry, last use (never the tokens)."""
    try:
        opened, service = _service(store, config_file)
        try:
            records = service.list(tenant)
        finally:
            opened.close()
    except errors.HeadraceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    at = now_ms()
    if as_json:
        typer.echo(
            json.dumps([{**dataclasses.asdict(r), "state": state_of(r, at)} for r in records])
        )
        return
    typer.echo("token_id\ttenant\tuser\trole\tstate\texpires\tlast_used")
    for r in records:
        typer.echo(
            f"{r.token_id}\t{r.tenant_name}\t{r.user_name}\t{r.role}\t{state_of(r, at)}\t"
            f"{_when(r.expires_at_ms, 'never')}\t{_when(r.last_used_at_ms, 'never')}"
        )


def _when(at_ms: int | None, none: str) -> str:
    """A time in ms as ISO 8601 UTC to the minute, or ``none``."""
    if at_ms is None:
        return none
    return datetime.datetime.fromtimestamp(at_ms / 1000, datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")


@app.command()
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (from create or ls).")],
    store: StoreOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Revoke a token by its id."""
    try:
        opened, service = _service(store, config_file)
        try:
            service.revoke(token_id)
        finally:
            opened.close()
    except errors.HeadraceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"revoked {token_id}")
