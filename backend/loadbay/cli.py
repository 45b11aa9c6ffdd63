"""The `loadbay` command: serve, worker, migrate, import, schema, users, api-keys."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay import bootstrap
from loadbay.auth import service as auth_service
from loadbay.config import Settings, get_settings
from loadbay.core.actor import Role
from loadbay.db import make_engine, make_sessionmaker, session_scope
from loadbay.errors import AppError
from loadbay.imports.client import ImportFailed, run_import
from loadbay.jobs import registry
from loadbay.worker.arq_worker import run as run_worker
from loadbay.workspaces import service as workspace_service

app = typer.Typer(help="Loadbay: self-hosted data imports.", no_args_is_help=True, add_completion=False)
schema_app = typer.Typer(help="Entities and fields.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for programs.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="api-keys")
console = Console()
err = Console(stderr=True)
ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def _run(fn: Callable[[AsyncSession], Awaitable[T]], settings: Settings | None = None) -> T:
    settings = settings or get_settings()

    async def main() -> T:
        engine = make_engine(settings)
        try:
            async with session_scope(make_sessionmaker(engine)) as session:
                return await fn(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except AppError as e:
        err.print(f"[red]error:[/red] {e.detail}")
        for f in e.fields:
            err.print(f"  {f.field}: {f.message}")
        raise typer.Exit(2) from None


def migrate_db(settings: Settings | None = None) -> None:
    from alembic import command
    from alembic.config import Config

    settings = settings or get_settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.cmd_opts = type("Opts", (), {"x": [f"url={settings.resolved_database_url}"]})()
    command.upgrade(cfg, "head")


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    migrate_db()
    console.print("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    demo: Annotated[bool, typer.Option(help="On first start, apply examples/catalog.yaml.")] = False,
    workers: Annotated[int, typer.Option(help="API processes (production).")] = 1,
) -> None:
    """Migrate, create the first admin if needed, and serve the API and the web app."""
    import uvicorn

    settings = get_settings()
    migrate_db(settings)

    async def first(session: AsyncSession) -> bootstrap.FirstStart | None:
        fs = await bootstrap.first_start(
            session, email=settings.admin_email, password=settings.admin_password
        )
        if fs and demo:
            await bootstrap.apply_schema_file(
                session, workspace_id=fs.workspace_id, path=bootstrap.EXAMPLES / "catalog.yaml"
            )
        return fs

    fs = _run(first, settings)
    h, p = host or settings.host, port or settings.port
    if fs:
        console.rule("[bold]Loadbay first start")
        console.print(f"Workspace created; sign in at http://{h}:{p} as")
        console.print(f"  email:    [bold]{fs.email}[/bold]")
        if fs.generated:
            console.print(
                f"  password: [bold]{fs.password}[/bold]   (shown once; change it with "
                "`loadbay users set-password`)"
            )
        else:
            console.print("  password: the one you set (LOADBAY_ADMIN_PASSWORD or `loadbay users create`)")
        if demo:
            console.print("The demo schema (examples/catalog.yaml) is applied.")
        console.rule()
    uvicorn.run(
        "loadbay.main:create_app",
        factory=True,
        host=h,
        port=p,
        workers=workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )


@app.command()
def worker() -> None:
    """Run an arq worker (needs LOADBAY_REDIS_URL)."""
    settings = get_settings()
    if not settings.redis_url:
        err.print("[red]error:[/red] set LOADBAY_REDIS_URL; without Redis, jobs run inside `loadbay serve`.")
        raise typer.Exit(2)
    run_worker(registry(settings), settings)


@schema_app.command("apply")
def schema_apply(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Schema YAML file.")],
    workspace: Annotated[int, typer.Option(help="Workspace id.")] = 1,
    dry_run: Annotated[bool, typer.Option(help="Report what would change, change nothing.")] = False,
) -> None:
    """Create or update the entities and fields of a schema file (idempotent)."""
    migrate_db()
    result = _run(
        lambda s: bootstrap.apply_schema_file(s, workspace_id=workspace, path=file, dry_run=dry_run)
    )
    table = Table("entity", "field", "action", "changed")
    for c in result.changes:
        if c.action != "unchanged":
            table.add_row(c.entity, c.field or "", c.action.value, ", ".join(c.changed))
    if table.row_count:
        console.print(table)
    prefix = "would change" if dry_run else "applied"
    console.print(
        f"{prefix}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    )


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Email (the login).")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, envvar="LOADBAY_NEW_USER_PASSWORD"
        ),
    ],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    workspace: Annotated[int | None, typer.Option(help="Add to this workspace.")] = None,
    role: Annotated[Role, typer.Option(help="Role in that workspace.")] = Role.editor,
    instance_admin: Annotated[
        bool, typer.Option("--instance-admin", help="May create workspaces (an instance administrator).")
    ] = False,
) -> None:
    """Create a user, optionally as a member of a workspace."""
    if len(password) < 8:
        err.print("[red]error:[/red] the password needs at least 8 characters")
        raise typer.Exit(2)

    async def go(session: AsyncSession) -> None:
        user = await auth_service.create_user(
            session, email=email, password=password, name=name, instance_admin=instance_admin
        )
        if workspace is not None:
            await bootstrap.system_actor(session, workspace)
            await workspace_service.add_membership(session, workspace_id=workspace, user=user, role=role)

    migrate_db()
    _run(go)
    console.print(
        f"user {email.lower()} created"
        + (f" ({role.value} in workspace {workspace})" if workspace else "")
        + (", instance administrator" if instance_admin else "")
    )


@users_app.command("instance-admin")
def users_instance_admin(
    email: Annotated[str, typer.Option(help="Email (the login).")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Take the right away instead.")] = False,
) -> None:
    """Make a user an instance administrator (may create workspaces), or with --revoke no longer."""
    migrate_db()
    user = _run(lambda s: auth_service.set_instance_admin(s, email=email, instance_admin=not revoke))
    state = "no longer an" if revoke else "now an"
    console.print(f"{user.email} is {state} instance administrator")


@users_app.command("set-password")
def users_set_password(
    email: Annotated[str, typer.Option(help="Email (the login).")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, envvar="LOADBAY_NEW_USER_PASSWORD"
        ),
    ],
) -> None:
    """Set a user's password (signs out their sessions)."""
    if len(password) < 8:
        err.print("[red]error:[/red] the password needs at least 8 characters")
        raise typer.Exit(2)
    _run(lambda s: auth_service.set_password(s, email=email, password=password))
    console.print("password changed")


@keys_app.command("create")
def api_keys_create(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    workspace: Annotated[int, typer.Option(help="Workspace id.")] = 1,
    role: Annotated[Role, typer.Option(help="Role the key acts with.")] = Role.editor,
) -> None:
    """Create an API key and print its token (shown once)."""

    async def go(session: AsyncSession) -> str:
        actor = await bootstrap.system_actor(session, workspace)
        _, token = await auth_service.create_api_key(session, actor=actor, name=name, role=role)
        return token

    migrate_db()
    console.print(_run(go), soft_wrap=True)


@app.command("import")
def import_file(
    file: Annotated[
        Path,
        typer.Argument(help="CSV, TSV, XLSX, XLS, ODS, JSON or NDJSON file.", exists=True, dir_okay=False),
    ],
    entity: Annotated[str, typer.Option(help="Entity to import into, e.g. products.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Stage and preview; commit nothing.")] = False,
    on_existing: Annotated[
        str, typer.Option(help="Existing records: overwrite, skip or merge (non-empty values).")
    ] = "overwrite",
    on_invalid: Annotated[str, typer.Option(help="Invalid rows: skip (and report) or abort.")] = "skip",
    duplicates: Annotated[
        str, typer.Option(help="A key twice in the file: last_wins, first_wins or error.")
    ] = "last_wins",
    url: Annotated[str, typer.Option(envvar="LOADBAY_URL", help="Loadbay server.")] = "http://127.0.0.1:8000",
    api_key: Annotated[str, typer.Option(envvar="LOADBAY_API_KEY", help="API key (editor or admin).")] = "",
    workspace: Annotated[int | None, typer.Option(help="Workspace id (default: the key's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the final summary as JSON.")] = False,
) -> None:
    """Import a file through the API: upload, map, stage, commit, with progress bars."""
    if not api_key:
        err.print("[red]error:[/red] pass --api-key or set LOADBAY_API_KEY (see `loadbay api-keys create`)")
        raise typer.Exit(2)
    try:
        code = run_import(
            url=url,
            api_key=api_key,
            path=file,
            entity=entity,
            workspace=workspace,
            dry_run=dry_run,
            on_existing=on_existing,
            on_invalid=on_invalid,
            duplicates=duplicates,
            as_json=as_json,
            console=err if as_json else console,
        )
    except ImportFailed as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    raise typer.Exit(code)


if __name__ == "__main__":
    app()
