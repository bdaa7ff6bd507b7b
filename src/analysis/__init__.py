"""Cross-site synthesis kit: from four raw case-study texts to a comparison PDF.

Stages (one module each): ``sources`` (load and validate the inputs), ``coding``
(tidy segment tables), ``comparison`` (site x code matrices, similarity,
prevalence), ``agreement`` (inter-coder statistics), ``exchange`` (REFI-QDA),
``report`` (the PDF). ``paths`` holds every file location.
"""

__version__ = "0.1.0"
