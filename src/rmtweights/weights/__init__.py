"""Pretrained weights files read one tensor at a time: one module per format, and what they share.

:mod:`~rmtweights.weights.source` opens a file, index or folder (:func:`~rmtweights.weights.source.open_weights`)
and dispatches to the readers :mod:`~rmtweights.weights.torch_file`,
:mod:`~rmtweights.weights.safetensors_file` and :mod:`~rmtweights.weights.sharded` (``*.index.json``);
:mod:`~rmtweights.weights.common` holds the error and the entry they share,
:mod:`~rmtweights.weights.selection` the include/exclude patterns, :mod:`~rmtweights.weights.parts` the
split of a model into workflow jobs. Which tensors are layers is decided by :mod:`rmtweights.tensors`.

Nothing is imported here: importing a module of this package runs this file, and every rule's code
fingerprint (:mod:`rmtweights.provenance`) follows those imports.
"""
