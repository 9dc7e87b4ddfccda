"""Settings of the platform, read from ``INJURY_RISK_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Paths, URLs and defaults shared by the CLI and the service.

    Every field can be set with an environment variable named
    ``INJURY_RISK_<FIELD>``, for example ``INJURY_RISK_DATABASE_URL``. The
    defaults keep all state under ``./var/`` so a fresh clone runs without set-up.
    """

    model_config = SettingsConfigDict(env_prefix="INJURY_RISK_", env_file=None, extra="ignore")

    var_dir: Path = Path("var")
    database_url: str = "sqlite:///var/injury_risk.db"
    mlflow_tracking_uri: str = "sqlite:///var/mlflow.db"
    mlflow_artifact_root: Path = Path("var/mlartifacts")
    registered_model_name: str = "injury-risk"
    models_dir: Path = Path("models")
    reports_dir: Path = Path("var/reports")
    horizon_days: int = 365
    log_level: str = "INFO"
    # Lower bounds of risk_score for the red, orange and yellow bands (see docs/scoring.md).
    band_thresholds: str = "0.5,0.2,0.05"
    # Seconds between two polls of the registry's champion alias and the stored scoring runs.
    champion_poll_seconds: float = 10.0
    # Seconds a verified API key's role, scope and revocation are reused before a re-read.
    api_key_cache_seconds: float = 5.0
    # Hold the served run's scores and explanations in memory (about 1.8 KB per employer,
    # 0.9 GB at 500,000 employers), so single-employer reads skip the store.
    serve_scores_from_memory: bool = True
    # The agency's own course catalogue, trainer file and course-effect table; None ships
    # the defaults.
    training_courses_path: Path | None = None
    training_trainers_path: Path | None = None
    training_effects_path: Path | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings, read once from the environment."""
    return Settings()
