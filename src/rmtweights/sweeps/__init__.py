"""Synthetic experiments and their fits: one module per experiment (paper 000 Table 1, paper 003 sweeps).

:mod:`~rmtweights.sweeps.table1` simulates Table 1 of paper 000; :mod:`~rmtweights.sweeps.wigner_outliers`
draws deformed Wigner matrices and compares their outliers with paper 003's predictions
(:mod:`rmtweights.rmt.wigner` holds the mathematics); :mod:`~rmtweights.sweeps.outlier_error`
summarises those draws; :mod:`~rmtweights.sweeps.growth_law` fits the spike-count growth law.

Nothing is imported here: importing a module of this package runs this file, and every rule's code
fingerprint (:mod:`rmtweights.provenance`) follows those imports.
"""
