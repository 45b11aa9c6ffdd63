from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, StrictInt

from loadbay.core.schemas import RowNumber, Schema
from loadbay.imports.models import ImportStatus, RowStatus
from loadbay.schema.types import FieldType


class FileFormat(StrEnum):
    """How an uploaded file was read; every delimited text is `csv`, or `tsv` when tab-separated."""

    csv = "csv"
    tsv = "tsv"
    xlsx = "xlsx"
    xls = "xls"
    ods = "ods"
    json = "json"
    ndjson = "ndjson"


class ReportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


class MappingBucket(StrEnum):
    mapped = "mapped"
    suggested = "suggested"
    new = "new"
    ignored = "ignored"


class RowFilter(StrEnum):
    """A row status, or `problems` for every row that is not valid."""

    valid = "valid"
    invalid = "invalid"
    duplicate = "duplicate"
    discarded = "discarded"
    rejected = "rejected"
    failed = "failed"
    problems = "problems"


class DuplicatePolicy(StrEnum):
    last_wins = "last_wins"
    first_wins = "first_wins"
    error = "error"


class OnExisting(StrEnum):
    overwrite = "overwrite"
    skip = "skip"
    merge = "merge"


class OnInvalid(StrEnum):
    skip = "skip"
    abort = "abort"


class ReadOptionsIn(Schema):
    encoding: str | None = Field(None, max_length=40, description="Text encoding; detected when null.")
    delimiter: str | None = Field(
        None, min_length=1, max_length=1, description="Field delimiter (CSV/TSV); sniffed when null."
    )
    quotechar: str | None = Field(None, min_length=1, max_length=1, description="Quote character (CSV/TSV).")
    header_row: StrictInt | None = Field(
        None, ge=0, le=10_000, description="Row number of the header (0: no header); detected when null."
    )
    sheet: str | None = Field(None, max_length=255, description="Sheet to read (spreadsheets).")
    records_path: str | None = Field(
        None, max_length=255, description="Dotted path to the array of records (JSON), e.g. `orderedItems`."
    )
    decimal: Literal[".", ","] | None = Field(
        None,
        description="Decimal mark of the numbers: `.` (then `,` or a space groups thousands: `1,234.56`) or "
        "`,` (then `.` or a space does: `1.234,56`); detected when null.",
    )


class CommitOptions(Schema):
    on_existing: OnExisting = Field(OnExisting.overwrite, description="What to do with records that exist.")
    on_invalid: OnInvalid = Field(
        OnInvalid.skip, description="`skip`: commit the valid rows and report the rest; `abort`: refuse."
    )


class ImportCreate(Schema):
    entity: str | None = Field(
        None, max_length=63, description="Entity to import into; proposed from the file when null."
    )
    file_name: str | None = Field(None, max_length=1000, description="Original file name, for display.")
    duplicate_policy: DuplicatePolicy = Field(
        DuplicatePolicy.last_wins, description="What to do when a key appears twice in the file."
    )
    options: ReadOptionsIn = Field(default_factory=ReadOptionsIn)


class ColumnProfile(Schema):
    name: str
    index: int
    samples: list[Any] = Field(description="The first non-blank values, as read.")
    blank_count: int = Field(description="Blank cells among the profiled rows.")
    inferred_type: FieldType
    confidence: float


class ProposedField(Schema):
    key: str
    label: str
    type: FieldType
    enum_values: list[str] | None = None


class ColumnMapping(Schema):
    column: str
    bucket: MappingBucket = Field(description="`mapped`, `suggested`, `new` or `ignored`.")
    field: str | None = Field(description="The field the column fills (mapped, suggested).")
    confidence: float = Field(description="From 0 to 1; 1 for an exact match.")
    reason: str
    proposed_field: ProposedField | None = Field(
        None, description="For `new`: a custom field definition to create (admins)."
    )


class EntityMatch(Schema):
    entity: str
    score: float
    reason: str


class FileProfile(Schema):
    format: FileFormat
    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    header_row: int | None = None
    sheets: list[str] = Field(default_factory=list)
    sheet: str | None = None
    records_path: str | None = None
    decimal_comma: bool = False
    decimal: Literal[".", ","] | None = Field(None, description="The decimal mark chosen, if one was.")
    profiled_rows: int = Field(description="Rows read to build this profile.")
    columns: list[ColumnProfile]
    warnings: list[str] = Field(default_factory=list)


class ImportRead(Schema):
    id: int
    status: ImportStatus = Field(
        description="created → uploaded → mapped → staging → staged → committing → completed | "
        "completed_with_errors | failed | cancelled"
    )
    entity: str | None
    file_name: str
    file_size: int | None
    file_sha256: str | None
    format: FileFormat | None
    duplicate_policy: DuplicatePolicy
    profile: FileProfile | None
    suggestions: list[ColumnMapping] = Field(
        default_factory=list, description="Where each column would go (until a mapping is saved)."
    )
    entity_matches: list[EntityMatch] = Field(default_factory=list, description="Entities ranked by fit.")
    entity_warning: str | None = Field(None, description="Set when the file looks like another entity.")
    mapping: dict[str, str | None] | None = Field(
        description="Saved mapping: column → field key (null: ignored)."
    )
    commit_options: CommitOptions | None
    counts: dict[str, int] = Field(description="Rows by outcome; complete once the status is final.")
    error: str | None
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    staged_at: datetime | None
    commit_started_at: datetime | None
    finished_at: datetime | None


class ImportPage(Schema):
    items: list[ImportRead]
    next_cursor: int | None = Field(
        description="Pass as `cursor` for the next page (the position after this page); null on the last "
        "page."
    )


class MappingSave(Schema):
    entity: str | None = Field(
        None, max_length=63, description="Entity to import into (default: as created)."
    )
    columns: dict[str, str | None] = Field(
        description="Column name → field key; null ignores the column. Unlisted columns are ignored.",
        max_length=1000,
    )
    duplicate_policy: DuplicatePolicy | None = None


class StagedRowRead(Schema):
    row: int = Field(description="Row number in the file.")
    status: RowStatus
    data: dict[str, Any] = Field(description="Values by field key; an invalid cell keeps the text as read.")
    errors: dict[str, list[str]] | None = Field(
        description="Field key (or `_row`) → [rule, message]; null when the row is valid."
    )


class StagedRowPage(Schema):
    items: list[StagedRowRead]
    next_cursor: int | None = Field(
        description="The last row number of this page: pass it as `cursor` for the rows after it; null on "
        "the last page."
    )


class RowCount(Schema):
    count: int


class ErrorCount(Schema):
    field: str
    code: str
    count: int
    example: str = Field(description="One message of this kind.")


class ErrorSummary(Schema):
    rows_with_errors: int
    by_field: list[ErrorCount]


class RowEdit(Schema):
    data: dict[str, Any] = Field(description='Values to change by field key; null or "" clears.')


class BulkEditAction(StrEnum):
    set = "set"
    find_replace = "replace"
    discard = "discard"
    restore = "restore"


class RowSelection(Schema):
    rows: list[RowNumber] | None = Field(None, max_length=100_000, description="These row numbers.")
    status: RowFilter | None = Field(None, description="Rows with this status, or `problems`.")
    field: str | None = Field(None, max_length=63, description="Rows with an error on this field.")
    code: str | None = Field(None, max_length=63, description="Rows with an error of this rule.")


class BulkEdit(Schema):
    action: BulkEditAction = Field(description="`set`, `replace`, `discard` or `restore`.")
    selection: RowSelection = Field(description="Which rows; an empty selection means every row.")
    field: str | None = Field(None, max_length=63, description="Field to set or to find and replace in.")
    value: Any = Field(None, description="Value to set (`set`); null clears.")
    find: str | None = Field(None, max_length=10_000, description="Text to find (`replace`).")
    replace: str | None = Field(None, max_length=10_000, description="Replacement text (`replace`).")


class BulkEditResult(Schema):
    matched: int
    changed: int
    now_valid: int
    now_invalid: int


class DryRunSample(Schema):
    row: int
    key: str
    before: dict[str, Any]
    after: dict[str, Any]


class DryRun(Schema):
    created: int
    updated: int
    unchanged: int
    skipped: int = Field(description="Existing records left alone (on_existing=skip), duplicates, discarded.")
    invalid: int
    rejected: int
    sample_updates: list[DryRunSample]


class Progress(Schema):
    status: ImportStatus
    rows_total: int = Field(description="Rows to commit.")
    rows_done: int
    chunks_total: int
    chunks_done: int
    chunks_failed: int
    rows_per_second: float | None
    eta_seconds: float | None
    counts: dict[str, int]
    error: str | None
