"""The evaluators (floor 3): they decide, reading only ``engine.rulebook`` and the parsed batch.
``vectorised`` (the batch path), ``reference`` (plain Python, one household), ``durable``
(durable_rules) and ``crosscheck`` (their comparison)."""
