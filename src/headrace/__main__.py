"""``python -m headrace`` is the ``headrace`` command."""

from headrace.cli.app import main

main()
