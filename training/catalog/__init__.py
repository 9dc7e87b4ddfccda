"""Course catalogue, trainer file and course-effect table: shipped defaults and loaders.

The shipped files are this package's ``courses.csv``, ``trainers.csv`` (demo
organisations) and ``course_effects.csv``; ``README.md`` beside them documents
their columns and the sources of the effect defaults. An agency replaces any of
them by passing its own file's path to the loader.
"""

from training.catalog.loader import (
    ENGAGEMENTS,
    MODES,
    load_course_effects,
    load_courses,
    load_trainers,
    read_table,
    split_list,
    validate_course_effects,
    validate_courses,
    validate_trainers,
)

__all__ = [
    "ENGAGEMENTS",
    "MODES",
    "load_course_effects",
    "load_courses",
    "load_trainers",
    "read_table",
    "split_list",
    "validate_course_effects",
    "validate_courses",
    "validate_trainers",
]
