"""The registry of review rounds: every decision kept across years in one DuckDB file.

``store`` (the file, its tables and hash chains), ``rows`` (the rows a recording adds),
``history`` (recognised classes round by round, previous status, flow codes, flows),
``record`` (record, close), ``support`` (the ledger of support delivered) and ``audit``
(verify, explain from the registry, export). See docs/registry.md."""
