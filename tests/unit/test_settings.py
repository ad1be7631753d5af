"""Settings come from the environment template.yaml gives each function, converted by type once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from paperboy.settings import Settings


def test_values_are_converted_to_their_types_and_unset_ones_keep_their_defaults() -> None:
    settings = Settings.from_env(
        {
            "PAPERS_TABLE": "papers",
            "ARXIV_CATEGORIES": "cs.CL+cs.RO, stat.ML",
            "CLAIM_SAFE_AGE_MINUTES": "15",
            "SES_MAX_SEND_RATE": "3",
            "HTTP_RETRIES": "2",
            "UNRELATED": "ignored",
        }
    )
    assert settings.papers_table == "papers"
    assert settings.arxiv_categories == ["cs.CL", "cs.RO", "stat.ML"]
    assert settings.claim_safe_age == timedelta(minutes=15)
    assert settings.ses_max_send_rate == 3.0
    assert settings.http_retries == 2
    assert settings.mail_domain == "papers.example.org"
    assert settings.sender == "digest@papers.example.org"
    assert Settings.from_env({"ARXIV_CATEGORIES": ""}).arxiv_categories == []


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HTTP_RETRIES", "four", "HTTP_RETRIES='four' is not a valid int"),
        ("SES_MAX_SEND_RATE", "fast", "SES_MAX_SEND_RATE='fast' is not a valid float"),
        # A shorter safe age would release claims SES may still answer for: a second digest.
        ("CLAIM_SAFE_AGE_MINUTES", "5", "CLAIM_SAFE_AGE_MINUTES must be at least 10"),
    ],
)
def test_a_value_of_the_wrong_type_or_below_its_minimum_is_refused_by_name(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env({variable: value})
