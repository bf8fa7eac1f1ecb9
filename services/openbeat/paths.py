"""Where the repository's data files live.

openbeat is installed editable from its repository (or copied whole into the container image), so
the schemas and infra files are found relative to this package; OPENBEAT_* settings can point
elsewhere.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent.parent
SCHEMAS_DIR = REPO_ROOT / "schemas"
INFRA_DIR = REPO_ROOT / "infra"
JURISDICTIONS_DIR = INFRA_DIR / "jurisdictions"
TOPICS_FILE = INFRA_DIR / "topics.toml"
DATA_DIR = PACKAGE_DIR / "data"
