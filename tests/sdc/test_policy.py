import json

import pytest

from sdc import Policy, SdcError


def test_defaults_are_acros():
    policy = Policy()
    assert (policy.threshold, policy.dominance_n, policy.dominance_k, policy.p_percent) == (
        10,
        2,
        90.0,
        10.0,
    )
    assert policy.zeros_disclosive and policy.min_residual_df == 10


def test_a_policy_can_only_be_made_stricter():
    policy = Policy()
    stricter = policy.stricter(threshold=20, dominance_k=80, p_percent=15, min_residual_df=20)
    assert stricter.threshold == 20 and stricter.is_at_least_as_strict_as(policy)
    for change, message in [
        ({"threshold": 5}, "threshold 5 is looser than the operator's 10"),
        ({"dominance_k": 95}, "dominance_k 95 is looser"),
        ({"zeros_disclosive": False}, "zeros_disclosive cannot be turned off"),
        ({"suppress": False}, "suppress cannot be turned off"),
        ({"secondary": "none"}, "secondary cannot be changed"),
        ({"min_residual_df": 3}, "min_residual_df 3 is looser"),
    ]:
        with pytest.raises(SdcError, match=message):
            policy.stricter(**change)
    assert not Policy(threshold=5).is_at_least_as_strict_as(policy)


def test_policy_from_settings_and_environment(monkeypatch):
    assert Policy.from_mapping({"threshold": 12}).threshold == 12
    with pytest.raises(SdcError, match="unknown setting treshold"):
        Policy.from_mapping({"treshold": 12})
    with pytest.raises(SdcError, match="threshold must be at least 1"):
        Policy(threshold=0)
    with pytest.raises(SdcError, match="pq_p and pq_q are set together"):
        Policy(pq_p=10)
    monkeypatch.setenv("TRE_DISCLOSURE_POLICY", json.dumps({"threshold": 15}))
    assert Policy.from_env().threshold == 15
    monkeypatch.setenv("TRE_DISCLOSURE_POLICY", "{not json")
    with pytest.raises(SdcError, match="is not valid JSON"):
        Policy.from_env()
    monkeypatch.delenv("TRE_DISCLOSURE_POLICY")
    assert Policy.from_env() == Policy()
    assert Policy.from_mapping(json.loads(Policy().to_json())) == Policy()
