"""What a run reproduced, paper by paper: the ``results/summary.md`` of rule ``write_summary``.

* :mod:`~rmtweights.summary.papers`: the numbers the papers report, each with where it is printed;
* :mod:`~rmtweights.summary.verdicts`: the rules that turn our numbers into a verdict, and their
  thresholds;
* :mod:`~rmtweights.summary.tables`: which study and sweep tables a check reads;
* :mod:`~rmtweights.summary.markdown`: how numbers, seeds and reasons are written;
* :mod:`~rmtweights.summary.paper000`, :mod:`~rmtweights.summary.paper001`,
  :mod:`~rmtweights.summary.paper003`: each paper's checks and its block of the document.

:mod:`rmtweights.stages.write_summary` assembles the document. ``docs/reading-results.md`` explains
every quantity. This initialiser imports nothing (code fingerprints, :mod:`rmtweights.provenance`).
"""
