"""Alembic environment: runs migrations on the engine handed over by ``upgrade_store``."""

from importlib.metadata import entry_points

from alembic import context

from risk.store import access_models, scoring_models  # noqa: F401  (registers their tables)
from risk.store.models import Base

# Upper layers declare their tables (for example api.web's user accounts) under
# this entry point group, so their models join Base.metadata without risk/ importing them.
for entry_point in entry_points(group="injury_risk.store_models"):
    entry_point.load()

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
