"""Build engines other than the default DuckDB pipeline (`siyu build --engine …`)."""
