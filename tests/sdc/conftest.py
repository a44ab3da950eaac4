from pathlib import Path

import pandas as pd
import pytest

# sdcMicro's own test data, kept in the repository (source and licence: its README.md)
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "sdcmicro"
KEYS = ["urbrur", "roof", "walls", "water", "electcon", "relat", "sex"]


def _reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name)


@pytest.fixture(scope="session")
def testdata():
    return _reference("testdata.csv")


@pytest.fixture(scope="session")
def testdata2():
    return _reference("testdata2.csv")


@pytest.fixture(scope="session")
def francdat():
    return _reference("francdat.csv")
