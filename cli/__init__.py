"""The ``giamngheo`` command line, thin over ``engine`` and ``household_models``."""
