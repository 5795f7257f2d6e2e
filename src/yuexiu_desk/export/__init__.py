"""Excel output (openpyxl, imported lazily): ledgers and the import templates a clerk fills in."""
