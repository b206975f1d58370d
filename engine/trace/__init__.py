"""The audit trace (floor 5): ``build`` (one household's decisions with every condition tree),
``inputs`` (canonical inputs and their hash), ``tree``, ``whatif`` (what would change the class),
``replay`` and ``render`` (text and HTML for people)."""
