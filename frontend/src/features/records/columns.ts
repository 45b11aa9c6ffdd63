import type { ColDef, ValueFormatterParams, ValueGetterParams } from "ag-grid-community";
import type { Entity, Field, RecordRow } from "../../api/client";
import { formatTimestamp, formatValue, isNumeric } from "./format";

/** Key fields first (in key order), then the other fields in their declared order. */
export function orderedFields(entity: Entity): Field[] {
  const byKey = new Map(entity.fields.map((f) => [f.key, f]));
  const keyFields = entity.key_fields.map((k) => byKey.get(k)).filter((f): f is Field => f !== undefined);
  const rest = entity.fields
    .filter((f) => !entity.key_fields.includes(f.key))
    .sort((a, b) => a.position - b.position);
  return [...keyFields, ...rest];
}

function fieldColumn(field: Field, isKey: boolean): ColDef<RecordRow> {
  const numeric = isNumeric(field.type);
  return {
    colId: field.key,
    headerName: field.label,
    headerTooltip: field.description || `${field.label} (${field.key}, ${field.type})`,
    valueGetter: (p: ValueGetterParams<RecordRow>) => p.data?.data[field.key],
    valueFormatter: (p: ValueFormatterParams<RecordRow>) => formatValue(field.type, p.value),
    type: numeric ? "rightAligned" : undefined,
    pinned: isKey ? "left" : undefined,
    width: isKey ? 220 : field.type === "text" || field.type === "json" ? 320 : numeric || field.type === "boolean" ? 120 : 200,
    minWidth: 80,
  };
}

export function recordColumns(entity: Entity): ColDef<RecordRow>[] {
  return [
    ...orderedFields(entity).map((f) => fieldColumn(f, entity.key_fields.includes(f.key))),
    {
      colId: "updated_at",
      headerName: "Updated",
      valueGetter: (p: ValueGetterParams<RecordRow>) => p.data?.updated_at,
      valueFormatter: (p: ValueFormatterParams<RecordRow>) => (p.value ? formatTimestamp(String(p.value)) : ""),
      width: 200,
    },
  ];
}
