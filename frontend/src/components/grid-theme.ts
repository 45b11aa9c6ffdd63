import { useComputedColorScheme } from "@mantine/core";
import { colorSchemeDarkBlue, colorSchemeLight, themeQuartz } from "ag-grid-community";

// The app's AG Grid look, light and dark, shared by every grid (imported only by lazy-loaded pages).
const base = themeQuartz.withParams({
  fontFamily: "inherit",
  fontSize: 13,
  headerFontWeight: 600,
  rowHeight: 36,
  headerHeight: 40,
  wrapperBorderRadius: 8,
});
const lightTheme = base.withPart(colorSchemeLight).withParams({ accentColor: "#228be6" });
const darkTheme = base.withPart(colorSchemeDarkBlue).withParams({ accentColor: "#4dabf7" });

/** The grid theme that matches the app's colour scheme. */
export function useGridTheme() {
  return useComputedColorScheme("light") === "dark" ? darkTheme : lightTheme;
}
