"""Reading and writing the reference system's (AICR) formats: `aicrc import` and `compile --format aicr`."""
