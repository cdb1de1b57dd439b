"""``python -m rmtweights`` (and the ``rmtweights`` command): see :mod:`rmtweights.cli`."""

from rmtweights.cli import main

raise SystemExit(main())
