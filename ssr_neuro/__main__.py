"""``python -m ssr_neuro`` is the ``ssr-neuro`` command."""

from ssr_neuro.cli import run

run()
