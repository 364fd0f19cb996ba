"""``headrace tokens``: create (shown once), list and revoke API tokens."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer

from headrace import config, errors
from headrace.service.tokens import ROLES, TokenService
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
    store: StoreOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Create a token; it is printed once, as the last word, and only its hash is kept."""
    try:
        opened, service = _service(store, config_file)
        try:
            token, record = service.create(tenant, user, role)
        finally:
            opened.close()
    except errors.HeadraceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"token {record.token_id} for user {record.user_name} ({record.user_id}) of tenant "
        f"{record.tenant_name} ({record.tenant_id}), role {record.role}; "
        "it is shown only now:"
    )
    typer.echo(token)


@app.command("ls")
def list_tokens(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's tokens.")] = None,
    store: StoreOption = None,
    config_file: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """List tokens (their ids, tenants, users, roles; never the tokens)."""
    try:
        opened, service = _service(store, config_file)
        try:
            records = service.list(tenant)
        finally:
            opened.close()
    except errors.HeadraceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(r) for r in records]))
        return
    for r in records:
        state = "revoked" if r.revoked_at_ms else "live"
        typer.echo(f"{r.token_id}\t{r.tenant_name}\t{r.user_name}\t{r.role}\t{state}")


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
