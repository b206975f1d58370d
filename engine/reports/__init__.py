"""The reports people file and read (floor 5): the review's report forms from a classified
batch or a registry round (``population``, ``tables``, ``forms``, ``lists``)."""
