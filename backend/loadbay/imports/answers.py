"""How the imports answers that are not one JSON object are declared: the event stream, the report
files, and the headers a client reads (the rows' version, a replayed commit)."""

from loadbay.core.clients import Responses, etag, header, headers

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OCTET = "application/octet-stream"
BINARY = {"type": "string", "format": "binary"}
ROWS_ETAG = etag(what="The version of the staged rows")

EVENTS: Responses = {
    200: {
        "description": "Server-sent events until the import is finished: a `progress` event whenever "
        "something changed (its `data:` line is the Progress schema as JSON), comment lines to keep the "
        "connection open in between; the stream ends after the event with a status that is not running",
        "content": {
            "text/event-stream": {
                # `itemSchema` (OpenAPI 3.2, as FastAPI writes it) describes each event and the schema
                # of its `data:` line; `schema` is then the whole stream read as a list of events. It is
                # left open: generators that know no `itemSchema` hand back the text as it came.
                "schema": {"description": "The whole stream; each event as `itemSchema` says."},
                "itemSchema": {
                    "type": "object",
                    "required": ["event", "data"],
                    "properties": {
                        "event": {"type": "string", "enum": ["progress"]},
                        "data": {
                            "type": "string",
                            "contentMediaType": "application/json",
                            "contentSchema": {"$ref": "#/components/schemas/Progress"},
                        },
                    },
                },
            }
        },
    }
}

# The report is a file either way. Generators pick the first media type they know and read text/*
# as text, which would mangle a workbook: `application/octet-stream` comes first so that they hand
# back the bytes; the server answers with it when a client asks for it (Accept).
REPORT: Responses = {
    200: {
        "description": "The invalid, rejected and failed rows as uploaded, plus row and error columns: "
        "CSV or XLSX by `format`",
        "content": {OCTET: {"schema": BINARY}, "text/csv": {"schema": BINARY}, XLSX: {"schema": BINARY}},
    }
}

COMMIT: Responses = headers(
    202,
    Idempotent_Replayed=header(
        "`true` when this answers a commit already made with the same Idempotency-Key.",
        required=False,
        enum=["true"],
    ),
)


def report_media_type(fmt: str, accept: str | None) -> str:
    """The report's own type, unless the client asked for plain bytes and not for that type."""
    own = XLSX if fmt == "xlsx" else "text/csv"
    wanted = [part.split(";")[0].strip().lower() for part in (accept or "").split(",")]
    if OCTET in wanted and not {own, own.split("/")[0] + "/*", "*/*"} & set(wanted):
        return OCTET
    return XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
