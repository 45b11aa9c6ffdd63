"""OpenAPI links: how the result of one operation feeds the next (for clients and stateful testing)."""

from typing import Any

WS = "$request.path.workspace_id"


def links(
    status: int, description: str, **targets: tuple[str, dict[str, str]]
) -> dict[int | str, dict[str, Any]]:
    """`name=(operationId, {parameter: runtime expression})` for each operation the response leads to."""
    return {
        status: {
            "description": description,
            "links": {
                name: {"operationId": op, "parameters": params} for name, (op, params) in targets.items()
            },
        }
    }


def entity_links() -> dict[int | str, dict[str, Any]]:
    p = {"workspace_id": WS, "entity_key": "$response.body#/key"}
    return links(
        201,
        "The entity as created",
        GetEntity=("entities-get", p),
        UpdateEntity=("entities-update", p),
        DeleteEntity=("entities-delete", p),
        AddField=("fields-create", p),
        ListRecords=("records-list", p),
        CountRecords=("records-count", p),
        CreateRecord=("records-create", p),
        BulkRecords=("records-bulk", p),
        DeleteAllRecords=("records-delete-all", p),
    )


def field_links() -> dict[int | str, dict[str, Any]]:
    p = {"workspace_id": WS, "entity_key": "$request.path.entity_key", "field_key": "$request.body#/key"}
    return links(
        201,
        "The entity, with the new field",
        UpdateField=("fields-update", p),
        DeleteField=("fields-delete", p),
    )


def record_links() -> dict[int | str, dict[str, Any]]:
    p = {"workspace_id": WS, "entity_key": "$request.path.entity_key", "record_id": "$response.body#/id"}
    return links(
        201,
        "The record as created",
        GetRecord=("records-get", p),
        UpdateRecord=("records-update", p),
        DeleteRecord=("records-delete", p),
    )


def invitation_links() -> dict[int | str, dict[str, Any]]:
    own = {"workspace_id": WS, "invitation_id": "$response.body#/id"}
    public = {"token": "$response.body#/token"}
    return links(
        201,
        "The invitation, with its link (shown once)",
        RevokeInvitation=("invitations-revoke", own),
        PreviewInvitation=("invitations-preview", public),
    )
