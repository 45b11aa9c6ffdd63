"""The one set of limits on ZIP containers (XLSX, ODS), for the detector and the sheet reader alike.

A legitimate workbook has tens of members; bigger central directories are not spreadsheets, and
reading one would cost memory for nothing.
"""

MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_DIRECTORY_BYTES = 16 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 2 << 30  # sum of the unpacked sizes the ZIP directory announces
BOMB_RATIO = 200  # a member unpacking more than this many times its packed size …
BOMB_MIN_BYTES = 100 << 20  # … and to more than this is a decompression bomb
