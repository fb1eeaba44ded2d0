"""``python -m ssr_neuro`` is the ``ssr-neuro`` command."""

from ssr_neuro.app.cli import run

run()
