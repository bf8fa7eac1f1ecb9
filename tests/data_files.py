"""Where the tests find the real city exports and the DCAT validator (see tests/data/README.md)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CHICAGO_CSV = DATA / "chicago_crimes_2014-03.csv"
NYC_CSV = DATA / "nyc_311_2022-05-01.csv"
SF_CSV = DATA / "sf_police_incidents_2018-12.csv"
SEATTLE_CSV = DATA / "seattle_spd_robbery_2008-2021.csv"
DCAT_VALIDATOR = DATA / "dcat-us-1.1" / "validate.py"
