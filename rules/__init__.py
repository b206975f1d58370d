"""The rulebook: data only (YAML). Shipped as package data; loaded by ``engine.rulebook``."""
