"""The evaluators (floor 3): they decide, reading only ``engine.rulebook`` and the parsed batch.
``vectorised`` (the batch path), ``reference`` (plain Python, one household), ``durable``
(durable_rules) and ``crosscheck`` (their comparison)."""

# The durable_rules cross-check's default size: at most this many households, whatever the
# batch's size (a few of every decision pattern and threshold value, then a uniform share).
# Here rather than in ``evaluation`` so that the command line reads it without loading NumPy.
CROSSCHECK_MAX = 1000
