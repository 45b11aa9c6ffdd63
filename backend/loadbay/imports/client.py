"""`loadbay import`: drives the public API (the same calls the web app makes) with progress bars."""

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

FINISHED = {"completed", "completed_with_errors", "failed", "cancelled"}


class ImportFailed(Exception):
    pass


class Client:
    def __init__(self, url: str, api_key: str, console: Console, quiet: bool) -> None:
        self.http = httpx.Client(
            base_url=url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(60, read=600),
        )
        self.console = console
        self.quiet = quiet

    def call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError as e:
            raise ImportFailed(f"cannot reach {self.http.base_url}: {e}") from None
        if r.status_code >= 400:
            try:
                body = r.json()
                detail = body.get("detail", r.text)
                fields = "".join(f"\n  {f['field']}: {f['message']}" for f in body.get("fields", []))
            except ValueError:
                detail, fields = r.text[:500], ""
            raise ImportFailed(f"{method} {path}: HTTP {r.status_code}: {detail}{fields}")
        return r.json() if r.content else None

    def _progress(self) -> Progress:
        return Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[detail]}"),
            TimeRemainingColumn(),
            console=self.console,
            disable=self.quiet,
            transient=False,
        )

    def upload(self, base: str, path: Path) -> Any:
        size = path.stat().st_size
        with self._progress() as bar:
            task = bar.add_task("upload", total=size or 1, detail="")

            def chunks() -> Iterator[bytes]:
                with path.open("rb") as f:
                    while block := f.read(1 << 20):
                        bar.advance(task, len(block))
                        yield block

            return self.call(
                "PUT",
                f"{base}/file",
                params={"file_name": path.name},
                content=chunks(),
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
            )

    def wait(self, base: str, label: str, until: set[str]) -> Any:
        with self._progress() as bar:
            task = bar.add_task(label, total=None, detail="")
            while True:
                p = self.call("GET", f"{base}/progress")
                total = p["rows_total"] or None
                done = p["rows_done"] if label == "commit" else p["rows_total"]
                rate = f"{p['rows_per_second']:,.0f} rows/s" if p.get("rows_per_second") else ""
                bar.update(
                    task,
                    total=total if label == "commit" else None,
                    completed=done,
                    detail=f"{done:,} rows {rate}",
                )
                if p["status"] in until or p["status"] in FINISHED:
                    if label == "commit" and total:
                        bar.update(task, completed=total)
                    return self.call("GET", base)
                time.sleep(0.3)


def run_import(
    *,
    url: str,
    api_key: str,
    path: Path,
    entity: str,
    workspace: int | None,
    dry_run: bool,
    on_existing: str,
    on_invalid: str,
    duplicates: str,
    as_json: bool,
    console: Console,
) -> int:
    c = Client(url, api_key, console, quiet=as_json)
    if workspace is None:
        spaces = c.call("GET", "/workspaces")
        if not spaces:
            raise ImportFailed("this API key sees no workspace")
        workspace = int(spaces[0]["id"])
    ws = f"/workspaces/{workspace}/imports"
    imp = c.call("POST", ws, json={"entity": entity, "file_name": path.name, "duplicate_policy": duplicates})
    base = f"{ws}/{imp['id']}"
    imp = c.upload(base, path)
    columns: dict[str, str | None] = {}
    table = Table("column", "field", "how", title=f"{path.name} → {entity}")
    for s in imp["suggestions"]:
        take = s["bucket"] in ("mapped", "suggested")
        columns[s["column"]] = s["field"] if take else None
        how = s["bucket"] + (f" ({s['confidence']:.0%})" if s["bucket"] == "suggested" else "")
        table.add_row(s["column"], s["field"] if take else "[dim]ignored[/dim]", how)
    if not as_json:
        console.print(table)
        for w in (imp.get("profile") or {}).get("warnings", []):
            console.print(f"[yellow]warning:[/yellow] {w}")
    c.call("PUT", f"{base}/mapping", json={"columns": columns})
    c.call("POST", f"{base}/stage")
    imp = c.wait(base, "stage", {"staged"})
    if imp["status"] != "staged":
        return _finish(c, imp, as_json, console)
    counts = imp["counts"]
    if not as_json:
        console.print(
            f"staged {counts['staged']:,} rows: {counts['valid']:,} valid, {counts['invalid']:,} invalid, "
            f"{counts['duplicates']:,} duplicates, {counts['rejected']:,} unreadable"
        )
        if counts["invalid"] or counts["rejected"]:
            summary = c.call("GET", f"{base}/errors")
            for e in summary["by_field"][:10]:
                console.print(f"  {e['field']}: {e['code']}, {e['count']:,} rows (e.g. {e['example']})")
    options = {"on_existing": on_existing, "on_invalid": on_invalid}
    if dry_run:
        preview = c.call("POST", f"{base}/dry-run", json=options)
        if as_json:
            print(json.dumps({"id": imp["id"], "status": "dry_run", "dry_run": preview, "counts": counts}))
        else:
            console.print(
                f"dry run: {preview['created']:,} would be created, {preview['updated']:,} updated, "
                f"{preview['unchanged']:,} unchanged, {preview['skipped']:,} skipped, "
                f"{preview['invalid']:,} invalid"
            )
        return 0
    c.call("POST", f"{base}/commit", json=options, headers={"Idempotency-Key": str(uuid.uuid4())})
    imp = c.wait(base, "commit", set())
    return _finish(c, imp, as_json, console)


def _finish(c: Client, imp: dict[str, Any], as_json: bool, console: Console) -> int:
    counts = imp["counts"]
    if as_json:
        print(
            json.dumps(
                {
                    "id": imp["id"],
                    "status": imp["status"],
                    "entity": imp["entity"],
                    "file": imp["file_name"],
                    "counts": counts,
                    "error": imp["error"],
                }
            )
        )
    else:
        colour = {"completed": "green", "completed_with_errors": "yellow"}.get(imp["status"], "red")
        console.print(f"[{colour}]{imp['status']}[/{colour}] import {imp['id']}")
        if "created" in counts:
            console.print(
                f"  {counts['created']:,} created, {counts['updated']:,} updated, {counts['unchanged']:,} "
                f"unchanged, {counts['skipped']:,} skipped, {counts['failed']:,} failed"
            )
        if imp["error"]:
            console.print(f"  [red]{imp['error']}[/red]")
    return 0 if imp["status"] in ("completed", "completed_with_errors") else 1
