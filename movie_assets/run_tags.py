"""Run tags the product's jobs and sensors set, below every layer that submits runs.

Here, not in :mod:`movie_assets.automation.jobs`, because the jobs and sensors that carry the tag
live in the source layers too (the TMDB retry job, the provider sensor), and a source must not
import from automation, the layer above it (README, "Layout").
"""

#: The tag of every run that writes the lake, the build file or the serving folder. The
#: service's run queue (deploy/dagster.yaml) starts one run with it at a time, whoever
#: submitted it; every job and the provider sensor's runs carry it.
WRITES_WAREHOUSE_TAGS = {"movies/writes": "warehouse"}
