"""The workflow's stages: one module per rule, each exposing the function its ``scripts/`` adapter calls.

Every function here turns library results into tidy, long tables: one row per layer (and per
method, state, spike, ...), each row carrying the layer name and, once the adapter calls
:func:`rmtweights.stages.common.add_run_keys`, the run keys (study, dataset, model, variant, seed),
so that ``pandas.concat`` over runs is the aggregation. A layer that cannot be analysed gets a row
with ``status`` and ``reason``, never silence.

A rule's code fingerprint is the import closure of the one stage module its script imports
(:mod:`rmtweights.provenance`), so this package's initialiser imports nothing: importing
``rmtweights.stages.fit_mp`` must not pull in the other stages.
"""
