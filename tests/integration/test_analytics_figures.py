"""Rolling analytics events up, and reading the figures back: the rollup holds the counts a
person works out by hand, rolling up again changes nothing, days that last 23 or 25 hours
are whole days, a month is summed from its days once they are all final, and every report
gives the same answer whether its days and months are rolled up, not yet rolled up, or
rolled up and their raw events deleted."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from kiosk.analytics import reports
from kiosk.analytics.models import ALL_KINDS, AnalyticsEvent, AnalyticsRollup, EventKind
from kiosk.analytics.rollup import roll_up
from kiosk.extensions import db

BERLIN = ZoneInfo("Europe/Berlin")
K = EventKind


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in the shop's time zone, as UTC."""
    return datetime.combine(day, time(hour, minute), BERLIN).astimezone(UTC)


def add(app: Flask, *events: tuple[str, datetime, str | None, dict[str, Any]]) -> None:
    with app.app_context():
        for kind, at, visitor, fields in events:
            db.session.add(AnalyticsEvent(kind=kind, occurred_at=at, visitor=visitor, **fields))
        db.session.commit()


def ev(
    kind: str, at: datetime, visitor: str | None = "v1", **fields: Any
) -> tuple[str, datetime, str | None, dict[str, Any]]:
    return (kind, at, visitor, fields)


def a_day_of_shopping(at: datetime) -> list[tuple[str, datetime, str | None, dict[str, Any]]]:
    """Eleven events of three visitors (and a webhook) within an hour from `at`."""
    m = timedelta(minutes=1)
    return [
        ev(K.PRODUCT_VIEW, at, "v1", product_id=1),
        ev(K.PRODUCT_VIEW, at + m, "v1", product_id=1),
        ev(K.PRODUCT_VIEW, at + 2 * m, "v1", product_id=2),
        ev(K.ADD_TO_CART, at + 3 * m, "v1", product_id=1, quantity=2),
        ev(K.PRODUCT_VIEW, at + 4 * m, "v2", product_id=1),
        ev(K.SEARCH, at + 5 * m, "v2", query="tee", results=0),
        ev(K.SEARCH, at + 6 * m, "v2", query="tee", results=3),
        ev(K.SEARCH, at + 7 * m, "v2", query="kaffee", results=5),
        ev(K.CHECKOUT_STARTED, at + 8 * m, "v3"),
        ev(K.ORDER_PLACED, at + 9 * m, "v3"),
        ev(K.PAYMENT_RECEIVED, at + 10 * m, None),
    ]


def rows(app: Flask, bucket: str = "day") -> list[tuple[Any, ...]]:
    """The rollup rows without their id and time of rolling up, in a stable order."""
    with app.app_context():
        found = db.session.scalars(select(AnalyticsRollup).where(AnalyticsRollup.bucket == bucket))
        return sorted(
            (
                r.start,
                r.kind,
                r.product_id,
                r.category_id,
                r.step,
                r.query,
                bool(r.zero),
                r.events,
                r.visitors,
                r.quantity,
            )
            for r in found
        )


def everything(app: Flask, start: datetime, end: datetime) -> dict[str, Any]:
    """Every report over the range."""
    with app.app_context():
        return {
            "visitors": reports.visitors(start, end),
            "views": reports.count(K.PRODUCT_VIEW, start, end),
            "searches": reports.count(K.SEARCH, start, end),
            "funnel": reports.funnel(start, end),
            "series": reports.series(ALL_KINDS, start, end),
            "view series": reports.series(K.PRODUCT_VIEW, start, end),
            "top viewed": reports.top_products(K.PRODUCT_VIEW, start, end),
            "top carted": reports.top_products(K.ADD_TO_CART, start, end, limit=1),
            "top searches": reports.searches(start, end),
            "found nothing": reports.searches(start, end, zero_only=True),
            "totals": reports.totals(start, end),
        }


# The tests' today, a day of normal length; NOW is its noon.
TODAY = date(2026, 6, 10)
NOW = datetime(2026, 6, 10, 10, tzinfo=UTC)


def test_a_day_rolls_up_to_the_counts_worked_out_by_hand(app: Flask) -> None:
    day = TODAY - timedelta(days=3)
    add(app, *a_day_of_shopping(local(day, 10)))
    with app.app_context():
        report = roll_up(now=NOW)
    assert report.days == 4  # that day, the two after it, and today
    start = local(day)
    assert [r for r in rows(app) if r[0] == start] == sorted(
        [
            (start, ALL_KINDS, 0, 0, "", "", False, 11, 3, 0),
            (start, K.ADD_TO_CART, 0, 0, "", "", False, 1, 1, 2),
            (start, K.ADD_TO_CART, 1, 0, "", "", False, 1, 1, 2),
            (start, K.CHECKOUT_STARTED, 0, 0, "", "", False, 1, 1, 0),
            (start, K.ORDER_PLACED, 0, 0, "", "", False, 1, 1, 0),
            (start, K.PAYMENT_RECEIVED, 0, 0, "", "", False, 1, 0, 0),
            (start, K.PRODUCT_VIEW, 0, 0, "", "", False, 4, 2, 0),
            (start, K.PRODUCT_VIEW, 1, 0, "", "", False, 3, 2, 0),
            (start, K.PRODUCT_VIEW, 2, 0, "", "", False, 1, 1, 0),
            (start, K.SEARCH, 0, 0, "", "", False, 3, 1, 0),
            (start, K.SEARCH, 0, 0, "", "kaffee", False, 1, 1, 0),
            (start, K.SEARCH, 0, 0, "", "tee", False, 1, 1, 0),
            (start, K.SEARCH, 0, 0, "", "tee", True, 1, 1, 0),
        ]
    )
    # The days without events are rolled up too, as nothing.
    assert [r for r in rows(app) if r[0] != start] == [
        (local(day + timedelta(days=n)), ALL_KINDS, 0, 0, "", "", False, 0, 0, 0) for n in (1, 2, 3)
    ]

    figures = everything(app, start, local(day + timedelta(days=1)))
    assert figures["visitors"] == 3
    assert figures["views"] == 4
    assert figures["funnel"] == reports.Funnel(viewed=2, carted=1, checkout=1, ordered=1)
    assert figures["top viewed"] == [
        reports.ProductCount(product_id=1, events=3, visitors=2, quantity=0),
        reports.ProductCount(product_id=2, events=1, visitors=1, quantity=0),
    ]
    assert figures["top carted"] == [reports.ProductCount(1, 1, 1, 2)]
    assert figures["top searches"] == [
        reports.SearchCount("tee", 2, zero=False),
        reports.SearchCount("kaffee", 1, zero=False),
    ]
    assert figures["found nothing"] == [reports.SearchCount("tee", 1, zero=True)]
    # A single day: per hour, the shopping all in its eleventh hour.
    hourly = figures["series"]
    assert len(hourly) == 24
    assert [(p.start, p.events, p.visitors) for p in hourly if p.events] == [
        (local(day, 10), 11, 3)
    ]


def test_reports_are_the_same_before_and_after_rolling_up_and_purging(app: Flask) -> None:
    now = NOW
    first = TODAY - timedelta(days=6)
    for n in range(6):
        add(app, *a_day_of_shopping(local(first + timedelta(days=n), 9)))
        add(
            app,
            ev(K.PRODUCT_VIEW, local(first + timedelta(days=n), 23, 59), f"late{n}", product_id=3),
        )
    add(app, ev(K.SEARCH, now - timedelta(seconds=1), "v9", query="zucker", results=0))
    ranges = [
        (local(first), now),  # a week to now
        (local(first), local(TODAY)),  # whole days
        (local(first + timedelta(days=3)), local(first + timedelta(days=4))),  # one old day
        (local(TODAY - timedelta(days=1)), now),  # yesterday and today
    ]
    before = [everything(app, *r) for r in ranges]
    assert before[0]["visitors"] == 6 * 4 + 1
    assert before[0]["found nothing"][0] == reports.SearchCount("tee", 6, zero=True)
    assert len(before[1]["series"]) == 6

    with app.app_context():
        roll_up(now=NOW)
    assert [everything(app, *r) for r in ranges] == before

    app.config["KIOSK_ANALYTICS_RAW_DAYS"] = 3
    with app.app_context():
        report = roll_up(now=NOW)
        assert report.purged == 3 * 12  # the three days older than three days
        assert reports.count(K.PRODUCT_VIEW, local(first), now) == 6 * 5
    assert [everything(app, *r) for r in ranges] == before


def test_rolling_up_again_gives_the_same_rows(app: Flask) -> None:
    day = TODAY - timedelta(days=2)
    add(app, *a_day_of_shopping(local(day, 8)), *a_day_of_shopping(local(TODAY, 0)))
    with app.app_context():
        first = roll_up(now=NOW)
    days, hours = rows(app), rows(app, "hour")
    with app.app_context():
        again = roll_up(now=NOW)
    assert (rows(app), rows(app, "hour")) == (days, hours)
    assert first.rows > 0
    assert (again.days, again.hours, again.rows) == (0, 0, 0)  # nothing new: nothing written

    add(app, ev(K.PRODUCT_VIEW, local(TODAY, 0, 30), "v7", product_id=5))
    with app.app_context():
        late = roll_up(now=NOW)
    assert (late.days, late.hours) == (1, 1)  # today and its first hour
    assert len(rows(app)) == len(days) + 1  # today's row of product 5
    assert len(hours) > 0 and all(r[0] >= local(TODAY - timedelta(days=1)) for r in hours)


@pytest.mark.parametrize(
    ("change", "length"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)],
    ids=["spring forward", "fall back"],
)
def test_a_day_the_clocks_change_is_one_whole_day(app: Flask, change: date, length: int) -> None:
    before, after = change - timedelta(days=1), change + timedelta(days=1)
    add(
        app,
        ev(K.PRODUCT_VIEW, local(before, 23, 59), "a", product_id=1),
        ev(K.PRODUCT_VIEW, local(change, 0, 30), "b", product_id=1),
        ev(K.PRODUCT_VIEW, local(change, 4), "c", product_id=1),
        ev(K.PRODUCT_VIEW, local(change, 23, 59), "d", product_id=1),
        ev(K.PRODUCT_VIEW, local(after, 0, 0), "e", product_id=1),
    )
    now = local(after, 12)
    start, end = local(change), local(after)
    assert end - start == timedelta(hours=length)
    with app.app_context():
        roll_up(now=now)
        roll_up(now=now + timedelta(minutes=10))
    by_day = {r[0]: r[7] for r in rows(app) if r[1] == ALL_KINDS}
    assert by_day == {local(before): 1, start: 3, end: 1}
    hourly = [r for r in rows(app, "hour") if r[1] == ALL_KINDS and start <= r[0] < end]
    assert len(hourly) == length  # every hour of the day has its row, empty or not
    assert sum(r[7] for r in hourly) == 3
    with app.app_context():
        series = reports.series(K.PRODUCT_VIEW, start, end)
    assert [p.start for p in series] == [start + timedelta(hours=n) for n in range(length)]
    assert [(p.start, p.events) for p in series if p.events] == [
        (local(change, 0), 1),
        (local(change, 4), 1),
        (local(change, 23), 1),
    ]


def test_a_day_whose_raw_events_are_gone_keeps_its_figures(app: Flask) -> None:
    day = TODAY - timedelta(days=5)
    add(app, *a_day_of_shopping(local(day, 12)))
    app.config["KIOSK_ANALYTICS_RAW_DAYS"] = 2
    with app.app_context():
        assert roll_up(now=NOW).purged == 11
    kept = rows(app)
    # Even a run that takes that day for yesterday (a clock set back) leaves it alone.
    with app.app_context():
        roll_up(now=local(day + timedelta(days=1), 12))
    assert [r for r in rows(app) if r[0] <= local(day)] == [r for r in kept if r[0] <= local(day)]
    with app.app_context():
        assert reports.series(K.PRODUCT_VIEW, local(day), local(day + timedelta(days=1))) == [
            reports.Point(local(day), 4, 2)  # no hours any more: the day as one point
        ]


def test_a_range_ending_now_counts_what_happened_since_the_last_roll_up(app: Flask) -> None:
    add(app, *a_day_of_shopping(local(TODAY - timedelta(days=2), 15)))
    with app.app_context():
        roll_up(now=NOW - timedelta(hours=1))
    add(app, ev(K.PRODUCT_VIEW, NOW - timedelta(minutes=30), "new", product_id=1))
    start = local(TODAY - timedelta(days=2))
    now = NOW
    with app.app_context():
        assert reports.count(K.PRODUCT_VIEW, start, now) == 5
        assert reports.visitors(start, now) == 4
        assert reports.top_products(K.PRODUCT_VIEW, start, now)[0] == reports.ProductCount(
            1, 4, 3, 0
        )
        daily = reports.series(K.PRODUCT_VIEW, start, now)
        today = reports.series(K.PRODUCT_VIEW, local(TODAY), now)
    # Today, per hour up to now (noon): the view at half past eleven in the last hour.
    assert [p.start for p in today] == [local(TODAY, hour) for hour in range(12)]
    assert [p.events for p in today] == [0] * 11 + [1]
    assert [(p.start, p.events) for p in daily] == [
        (start, 4),
        (local(TODAY - timedelta(days=1)), 0),
        (local(TODAY), 1),
    ]


def test_the_command_reports_and_its_dry_run_changes_nothing(
    app: Flask, runner: FlaskCliRunner
) -> None:
    yesterday = datetime.now(BERLIN).date() - timedelta(days=1)
    add(app, *a_day_of_shopping(local(yesterday, 9)))
    result = runner.invoke(args=["kiosk", "analytics-rollup", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "2 day(s) and " in result.output and "would be rolled up" in result.output
    assert rows(app) == []
    result = runner.invoke(args=["kiosk", "analytics-rollup"])
    assert result.exit_code == 0, result.output
    assert (
        "Analytics: 2 day(s) and" in result.output and ", 0 raw event(s) deleted." in result.output
    )
    assert len(rows(app)) == 14


def test_runs_that_overlap_wait_for_each_other(app: Flask) -> None:
    for n in range(1, 4):
        add(app, *a_day_of_shopping(local(TODAY - timedelta(days=n), 9)))
    start, errors = threading.Barrier(3), []

    def run() -> None:
        start.wait()
        with app.app_context():
            try:
                roll_up(now=NOW)
            except Exception as exc:  # any failure fails the test below
                errors.append(repr(exc))

    runners = [threading.Thread(target=run) for _ in range(3)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert errors == []
    with app.app_context():
        assert roll_up(now=NOW).rows == 0
    everyone = [(r[0], r[7]) for r in rows(app) if r[1] == ALL_KINDS]
    assert everyone == [(local(TODAY - timedelta(days=n)), 11) for n in (3, 2, 1)] + [
        (local(TODAY), 0)
    ]


# Five weeks around the spring change of the clocks (Sunday 29 March 2026): all of March,
# the end of February and the start of April; NOW_APRIL is the day after the last events.
SHOPPING_DAYS = [date(2026, 2, 27), date(2026, 3, 1), date(2026, 3, 15), date(2026, 4, 1)]
NOW_APRIL = local(date(2026, 4, 3), 12)


def five_weeks_of_shopping(app: Flask) -> None:
    add(app, *(e for day in SHOPPING_DAYS for e in a_day_of_shopping(local(day, 9))))
    add(
        app,
        ev(K.PRODUCT_VIEW, local(date(2026, 2, 28), 23, 59), "edge", product_id=4),
        ev(K.PRODUCT_VIEW, local(date(2026, 3, 1), 0, 5), "edge", product_id=4),  # UTC: Feb
        ev(K.PRODUCT_VIEW, local(date(2026, 3, 29), 1, 30), "dst", product_id=4),
        ev(K.PRODUCT_VIEW, local(date(2026, 3, 29), 3, 30), "dst", product_id=4),
        ev(K.SEARCH, local(date(2026, 3, 31), 23, 59), "edge", query="tee", results=0),
        ev(K.ORDER_PLACED, local(date(2026, 4, 1), 0, 0), "edge"),
    )


def test_reports_read_whole_months_and_answer_as_before_and_after_purging(app: Flask) -> None:
    five_weeks_of_shopping(app)
    ranges = [
        (local(date(2026, 2, 27)), local(date(2026, 4, 2))),  # part, March, part
        (local(date(2026, 3, 1)), local(date(2026, 4, 1))),  # March alone
        (local(date(2026, 2, 28)), NOW_APRIL),  # to now (a part of a day is raw: purged, gone)
        (local(date(2026, 3, 2)), local(date(2026, 3, 31))),  # inside March
    ]
    before = [everything(app, *r) for r in ranges]
    assert before[1]["views"] == 2 * 4 + 3  # two days of shopping, the edge and the change
    assert before[1]["totals"] == reports.Totals(
        visitors=before[1]["visitors"],
        funnel=before[1]["funnel"],
        checkouts_started=2,
        orders_placed=2,
    )

    with app.app_context():
        assert roll_up(now=NOW_APRIL).months == 1  # March; February and April are partial
    assert {r[0] for r in rows(app, "month")} == {local(date(2026, 3, 1))}
    assert [everything(app, *r) for r in ranges] == before

    app.config["KIOSK_ANALYTICS_RAW_DAYS"] = 1
    months = rows(app, "month")
    with app.app_context():
        report = roll_up(now=NOW_APRIL)
    assert report.purged > 0 and report.months == 0
    assert rows(app, "month") == months
    assert [everything(app, *r) for r in ranges] == before


def test_only_complete_final_months_are_summed_and_a_second_run_changes_nothing(
    app: Flask,
) -> None:
    five_weeks_of_shopping(app)
    with app.app_context():
        # Ten minutes after March ended its last day is not final yet: no month.
        assert roll_up(now=local(date(2026, 4, 1), 0, 10)).months == 0
        assert rows(app, "month") == []
        assert roll_up(now=local(date(2026, 4, 1), 0, 20)).months == 1
    march = local(date(2026, 3, 1))
    summed = rows(app, "month")
    # Its days' rows added up key by key; visitors per day, summed.
    assert [r for r in summed if r[1] == ALL_KINDS] == [
        (march, ALL_KINDS, 0, 0, "", "", False, 2 * 11 + 4, 4 + 3 + 1 + 1, 0)
    ]
    assert (march, K.ADD_TO_CART, 1, 0, "", "", False, 2, 2, 4) in summed
    assert (march, K.SEARCH, 0, 0, "", "tee", True, 3, 3, 0) in summed
    with app.app_context():
        again = roll_up(now=NOW_APRIL)
    assert (again.months, rows(app, "month")) == (0, summed)


def test_a_late_event_rolls_its_day_up_again_and_then_its_month(app: Flask) -> None:
    five_weeks_of_shopping(app)
    with app.app_context():
        roll_up(now=local(date(2026, 4, 1), 0, 20))
    add(app, ev(K.ORDER_PLACED, local(date(2026, 3, 31), 23, 30), "late"))
    with app.app_context():
        late = roll_up(now=local(date(2026, 4, 1), 0, 30))
        march = reports.count(K.ORDER_PLACED, local(date(2026, 3, 1)), local(date(2026, 4, 1)))
    assert (late.days, late.months) == (1, 1)  # 31 March, then March
    assert march == 3
    assert [r[7] for r in rows(app, "month") if r[1] == K.ORDER_PLACED] == [3]


def test_a_month_whose_last_day_has_23_hours_waits_for_that_day(app: Flask) -> None:
    """March 2024 ends on the Sunday the clocks go forward: its end minus 24 hours is
    still 30 March."""
    add(
        app,
        ev(K.SEARCH, local(date(2024, 3, 1), 9), query="tee", results=1),
        ev(K.SEARCH, local(date(2024, 3, 31), 9), query="tee", results=1),
    )
    with app.app_context():
        assert roll_up(now=local(date(2024, 3, 31), 23)).months == 0
        assert roll_up(now=local(date(2024, 4, 1), 0, 20)).months == 1
    assert [r[7] for r in rows(app, "month") if r[1] == ALL_KINDS] == [2]
