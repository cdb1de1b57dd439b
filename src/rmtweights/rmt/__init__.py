"""Random-matrix-theory estimators and tests (conventions: ``docs/architecture.md``)."""
