"""Random-matrix-theory estimators and tests (conventions: ARCHITECTURE.md)."""
