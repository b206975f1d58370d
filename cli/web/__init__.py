"""The local web page (``giamngheo serve``): the same library behind a page for the people who
do not use a terminal. It calls only the public names of ``engine`` and ``household_models``
(the architecture test checks it) and has no logic of its own."""
