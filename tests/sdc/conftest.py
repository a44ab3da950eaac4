import os
from pathlib import Path

import pandas as pd
import pytest

# the steering folder's shared/ lies beside the repository (TRE_SHARED points elsewhere)
SHARED = Path(os.environ.get("TRE_SHARED", Path(__file__).resolve().parents[3] / "shared"))
REFERENCE = SHARED / "data" / "sdcmicro"
KEYS = ["urbrur", "roof", "walls", "water", "electcon", "relat", "sex"]


def _reference(name: str) -> pd.DataFrame:
    path = REFERENCE / name
    if not path.exists():  # pragma: no cover - the steering folder is laid beside the repo
        pytest.fail(
            f"sdcMicro reference data missing: {path} (shared/ lies beside the repository;"
            " set TRE_SHARED to its path)"
        )
    return pd.read_csv(path)


@pytest.fixture(scope="session")
def testdata():
    return _reference("testdata.csv")


@pytest.fixture(scope="session")
def testdata2():
    return _reference("testdata2.csv")


@pytest.fixture(scope="session")
def francdat():
    return _reference("francdat.csv")
