import { Alert, Button, Collapse, Group, NumberInput, Paper, Select, Stack, Text, TextInput, UnstyledButton } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useState } from "react";
import { errorMessage } from "../../../api/client";
import type { ImportSession, ReadOptions } from "../api";

const ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "windows-1252", "iso-8859-1", "iso-8859-15", "cp850", "shift_jis", "gb18030"];
const DELIMITERS = [
  { value: ",", label: "Comma ( , )" },
  { value: ";", label: "Semicolon ( ; )" },
  { value: "\t", label: "Tab" },
  { value: "|", label: "Pipe ( | )" },
];

// The decimal mark, when detection cannot tell 3,50 from 1.234,56: the other mark then groups thousands.
const DECIMALS = [
  { value: "detect", label: "Detect" },
  { value: ",", label: "Comma: 1.234,56" },
  { value: ".", label: "Point: 1,234.56" },
];

type Props = {
  session: ImportSession;
  onApply: (options: ReadOptions) => void;
  /** The file is being read again; and why that failed (null when it did not). */
  applying: boolean;
  error: Error | null;
};

/** How the file is read (encoding, delimiter, header row, sheet, records path, decimal mark): only what its format needs. */
export function FileOptions({ session, onApply, applying, error }: Props) {
  const profile = session.profile;
  const format = profile?.format ?? session.format ?? "csv";
  const text = format === "csv" || format === "tsv";
  const sheets = profile?.sheets ?? [];
  const json = format === "json";
  const needsAttention = (profile?.warnings?.length ?? 0) > 0 || sheets.length > 1 || (profile?.columns.length ?? 0) <= 1;
  const [opened, { toggle }] = useDisclosure(needsAttention);
  const [encoding, setEncoding] = useState<string | null>(profile?.encoding ?? null);
  const [delimiter, setDelimiter] = useState<string | null>(profile?.delimiter ?? null);
  const [headerRow, setHeaderRow] = useState<number | string>(profile?.header_row ?? 1);
  const [sheet, setSheet] = useState<string | null>(profile?.sheet ?? sheets[0] ?? null);
  const [recordsPath, setRecordsPath] = useState(profile?.records_path ?? "");
  const [decimal, setDecimal] = useState<string>(profile?.decimal ?? "detect");
  // What the person did not change is detected again (a new sheet has its own header row).
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const touch = (k: string) => setTouched((t) => new Set(t).add(k));

  if (!profile || !(text || sheets.length > 0 || json || format === "xlsx" || format === "xls" || format === "ods")) return null;

  const summary = [
    text && profile.encoding && `encoding ${profile.encoding}`,
    text && profile.delimiter && `delimiter ${profile.delimiter === "\t" ? "tab" : `“${profile.delimiter}”`}`,
    profile.sheet && `sheet “${profile.sheet}”`,
    !json && `header on row ${profile.header_row ?? "–"}`,
    json && profile.records_path && `records at “${profile.records_path}”`,
    profile.decimal && `decimal ${profile.decimal === "," ? "comma" : "point"}`,
    `${profile.columns.length} columns`,
  ]
    .filter(Boolean)
    .join(", ");

  const apply = () =>
    onApply({
      encoding: text && touched.has("encoding") ? encoding : null,
      delimiter: text && touched.has("delimiter") ? delimiter : null,
      header_row: json || !touched.has("header") ? null : typeof headerRow === "number" ? headerRow : Number(headerRow),
      sheet: sheets.length ? sheet : null,
      records_path: json ? recordsPath || null : null,
      decimal: decimal === "," || decimal === "." ? decimal : null,
    });

  return (
    <Paper withBorder radius="md" p="sm">
      <UnstyledButton onClick={toggle} aria-expanded={opened} w="100%">
        <Group justify="space-between">
          <Text size="sm">
            <b>File options:</b> {summary}
          </Text>
          <Text size="sm" c="blue">
            {opened ? "Hide" : "Change"}
          </Text>
        </Group>
      </UnstyledButton>
      {(profile.warnings ?? []).map((w) => (
        <Alert key={w} color="yellow" mt="xs" p="xs">
          {w}
        </Alert>
      ))}
      <Collapse expanded={opened}>
        <Stack gap="sm" mt="sm">
          <Group align="flex-end" gap="sm">
            {text && (
              <>
                <Select label="Encoding" searchable w={180} data={[...new Set([...(profile.encoding ? [profile.encoding] : []), ...ENCODINGS])]} value={encoding} onChange={(v) => { setEncoding(v); touch("encoding"); }} comboboxProps={{ withinPortal: true }} />
                <Select label="Delimiter" w={180} data={DELIMITERS} value={delimiter} onChange={(v) => { setDelimiter(v); touch("delimiter"); }} comboboxProps={{ withinPortal: true }} />
              </>
            )}
            {sheets.length > 0 && <Select label="Sheet" w={200} data={sheets} value={sheet} onChange={setSheet} comboboxProps={{ withinPortal: true }} />}
            {!json && <NumberInput label="Header row" description="0: no header" w={140} min={0} max={10000} value={headerRow} onChange={(v) => { setHeaderRow(v); touch("header"); }} />}
            <Select label="Decimal mark" w={190} data={DECIMALS} value={decimal} onChange={(v) => setDecimal(v ?? "detect")} allowDeselect={false} comboboxProps={{ withinPortal: true }} />
            {json && <TextInput label="Records path" description="Dotted path to the array, e.g. orderedItems" w={280} value={recordsPath} onChange={(e) => setRecordsPath(e.currentTarget.value)} />}
            <Button onClick={apply} loading={applying} variant="light">
              Read again
            </Button>
          </Group>
          <Text size="xs" c="dimmed">
            Reading the file again with other options resets the mapping.
          </Text>
          {error !== null && (
            <Alert color="red" role="alert">
              {errorMessage(error)}
            </Alert>
          )}
        </Stack>
      </Collapse>
    </Paper>
  );
}
