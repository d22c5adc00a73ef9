"""Bronze assets: every source landed in DuckDB as it arrived, plus audit columns."""
