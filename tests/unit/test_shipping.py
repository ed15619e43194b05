"""The shipping file's carriers: checked at start-up, linked to their tracking pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import PROJECT_ROOT
from kiosk.shipping.services import (
    Carrier,
    ShippingConfigError,
    load,
    parse_carriers,
    tiers_ok,
    tracking_url_ok,
)

DHL = {"code": "dhl", "name": "DHL", "tracking_url": "https://example.org/t?n={tracking}"}
METHOD = """
[[method]]
code = "parcel"
name = "Parcel"
countries = ["DE"]
kind = "flat"
price = 490
carrier = "{carrier}"
"""
CARRIER = """
[[carrier]]
code = "dhl"
name = "DHL"
tracking_url = "https://example.org/t?n={tracking}"
"""


def test_the_tracking_number_goes_into_the_link_url_encoded() -> None:
    carrier = Carrier("dhl", "DHL", "https://example.org/t?n={tracking}")
    assert carrier.tracking_link("0034 0434/1") == "https://example.org/t?n=0034%200434%2F1"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"code": "d h l"}, "code must be letters, digits and hyphens"),
        ({"name": ""}, "name must be a text"),
        ({"tracking_url": "http://example.org/{tracking}"}, "tracking_url must be https://"),
        ({"tracking_url": "https://example.org/track"}, "with {tracking}"),
    ],
)
def test_a_malformed_carrier_is_named_with_its_fault(
    change: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ShippingConfigError, match="carrier 1") as raised:
        parse_carriers({"carrier": [DHL | change]})
    assert complaint in str(raised.value)


def test_two_carriers_may_not_share_a_code() -> None:
    with pytest.raises(ShippingConfigError, match="two carriers share a code"):
        parse_carriers({"carrier": [DHL, DHL]})


def test_a_method_must_name_a_known_carrier(tmp_path: Path) -> None:
    path = tmp_path / "shipping.toml"
    path.write_text(METHOD.replace("{carrier}", "dhl") + CARRIER, encoding="utf-8")
    methods, carriers = load(path)
    assert methods[0].carrier == "dhl" and carriers["dhl"].name == "DHL"
    path.write_text(METHOD.replace("{carrier}", "hermes") + CARRIER, encoding="utf-8")
    with pytest.raises(ShippingConfigError, match="method parcel: unknown carrier 'hermes'"):
        load(path)


def test_the_shipped_file_links_every_carrier_over_https() -> None:
    methods, carriers = load(PROJECT_ROOT / "data" / "shipping.toml")
    assert {"dhl", "dhl-express", "dpd", "gls", "hermes", "ups"} <= set(carriers)
    assert all(method.carrier in carriers for method in methods)


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://tracking.example/t?n={tracking}", True),
        ("https://www.myhermes.de/empfangen/sendungsinformation#{tracking}", True),
        ("http://tracking.example/{tracking}", False),  # the buyer's link stays on TLS
        ("https://tracking.example/track", False),  # nowhere for the number
        ("https://tracking.example/{tracking}?again={tracking}", False),
        ("https:///{tracking}", False),  # no host
        ("https://[/{tracking}", False),  # urlsplit raises
        ("javascript:alert(1)//https://{tracking}", False),
        ("https://tracking.example/ {tracking}", False),
        ("https://tracking.example/\x00{tracking}", False),  # a control character
        ("https://tracking.example/" + "a" * 500 + "{tracking}", False),
    ],
)
def test_a_tracking_address_is_https_with_one_place_for_the_number(
    url: str, accepted: bool
) -> None:
    assert tracking_url_ok(url) is accepted


@pytest.mark.parametrize(
    ("tiers", "accepted"),
    [
        ([(2000, 1290), (5000, 1690)], True),
        ([(2000, 0)], True),  # free up to 2 kg
        ([], False),
        ([(0, 490)], False),
        ([(2000, 490), (2000, 590)], False),  # rising strictly
        ([(5000, 490), (2000, 590)], False),
        ([(2000, -1)], False),
    ],
)
def test_weight_tiers_rise_strictly_from_above_nothing(
    tiers: list[tuple[int, int]], accepted: bool
) -> None:
    assert tiers_ok(tiers) is accepted
