"""``python -m stream`` is the ``newsalert`` command."""

from stream.cli import main

main()
