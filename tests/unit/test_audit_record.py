"""`audit.record` keeps personal values out of the log: details are ids, codes and amounts.

An email address is the one kind of personal value a simple pattern can recognise; it is
refused wherever it sits in the details, so a caller cannot log one by mistake.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from kiosk.audit import services as audit


@pytest.mark.parametrize(
    "details",
    [
        {"email": "jana@example.org"},
        {"to": "Jana Muster <jana.muster@mail.example.de>"},
        {"after": {"mail_from": "Kiosk <shop@kiosk.example>"}},
        {"recipients": [12, "erika@example.org"]},
    ],
)
def test_an_email_address_in_the_details_is_refused(details: dict[str, Any]) -> None:
    with pytest.raises(audit.PersonalValueInDetails, match="looks like an email address"):
        audit.record(Session(), "staff.invited", audit.Account(1), **details)


def test_ids_codes_and_amounts_are_recorded() -> None:
    entry = audit.record(
        Session(),
        "payment.refunded",
        audit.Account(1),
        order="K-2026-00042",
        amount_cents=1250,
        before={"status": "paid"},
        lines=[3, 4],
        tracking="00340434161094042557",
    )
    assert entry.details["order"] == "K-2026-00042" and entry.details["lines"] == [3, 4]
    assert entry.actor_id == entry.subject_id == 1


def test_an_at_sign_alone_is_no_address() -> None:
    entry = audit.record(
        Session(), "product.updated", audit.Account(1), values={"name": "Tee @ home"}
    )
    assert entry.details["values"] == {"name": "Tee @ home"}


def test_an_unknown_event_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown audit event"):
        audit.record(Session(), "signin.okay")
