"""The roll-up job (`flask kiosk analytics-rollup`, every 10 minutes): adds raw events up
into figures per local day (and per hour for today and yesterday), sums the days of each
local calendar month whose days are all final into figures per month, then deletes the raw
events that are older than KIOSK_ANALYTICS_RAW_DAYS and whose days are rolled up for good.

Safe to run again at any time, and alongside another run: each day (with its hours) is
rewritten whole in its own transaction, from the raw events, so the same events always give
the same rows. A period is rewritten only when it has none yet or when more raw events are
counted for it than its figures hold; so today's figures follow the events, yesterday's
take in events written late, and a day whose raw events are gone keeps the figures it has.

A month is summed from its day rows, never from raw events, so purging changes nothing
there either. Its rows carry the newest `rolled_up_at` of its days: it is rewritten only
when its days no longer match it (a day rolled up since, e.g. for late events), and its
rows are deleted if one of its days is no longer final. Its ALL_KINDS row, like a day's,
says that and when it was rolled up; since its last day was final, so is the month.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from flask import current_app

from kiosk.analytics.models import Bucket
from kiosk.analytics.periods import Span, days, hours, is_final, local_day, midnight, month
from kiosk.analytics.queries import FiguresRepository, Marker
from kiosk.orm import utcnow
from kiosk.uow import read_session, unit_of_work

ONE_DAY = timedelta(days=1)


@dataclass
class RollupReport:
    days: int = 0  # days whose figures were written
    hours: int = 0  # hours whose figures were written
    months: int = 0  # months whose figures were summed from their days
    rows: int = 0  # rollup rows written
    purged: int = 0  # raw events deleted
    # Starts of the days written or found complete: a dry run purges as if they were final.
    settled: list[datetime] = field(default_factory=list)


def roll_up(now: datetime | None = None, dry_run: bool = False) -> RollupReport:
    """Roll up every day from the first one not rolled up for good (or the oldest raw
    event's) to today, then purge. A dry run does the same work and rolls it back."""
    now = now or utcnow()
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    today = local_day(now, zone)
    yesterday = today - ONE_DAY
    repo = FiguresRepository(read_session())
    first = yesterday
    if oldest := repo.oldest_event():
        first = min(first, local_day(oldest, zone))
    if newest := repo.newest_marker(Bucket.DAY):
        first = min(first, local_day(newest, zone) + ONE_DAY)
    markers = repo.markers(Bucket.DAY, midnight(first, zone), midnight(today + ONE_DAY, zone))
    read_session().rollback()  # end the read before the writes take their locks

    report = RollupReport()
    for period in days(first, today, zone):
        marker = markers.get(period.start)
        recent = period.start >= midnight(yesterday, zone)
        if recent or marker is None or not is_final(period, marker.rolled_up_at):
            _in_transaction(partial(_roll_day, period, recent, now, report), dry_run)
    _in_transaction(partial(_delete_hours, midnight(yesterday, zone)), dry_run)
    _roll_months(now, zone, report, dry_run)
    _purge(now, zone, report, dry_run)
    return report


def _in_transaction(work: Callable[[FiguresRepository], object], dry_run: bool) -> None:
    with unit_of_work(dry_run) as session:
        work(FiguresRepository(session))


def _delete_hours(before: datetime, repo: FiguresRepository) -> None:
    """Hours are kept for today and yesterday only."""
    repo.delete_periods_before(Bucket.HOUR, before)


def _needs(marker: Marker | None, raw: int) -> bool:
    """Events are only ever added to a period still kept raw: more of them than counted
    means news; fewer means they were purged, and the figures must stay."""
    return marker is None or raw > marker.events


def _roll(
    repo: FiguresRepository,
    bucket: Bucket,
    periods: list[Span],
    markers: dict[datetime, Marker],
    counts: list[int],
    now: datetime,
) -> tuple[list[Span], list[Span], int]:
    """Rewrite the periods that need it, all at once, and confirm those found complete once
    they are over: the periods rewritten, those confirmed, and the rows written."""
    stale: list[Span] = []
    complete: list[Span] = []
    for period, raw in zip(periods, counts, strict=True):
        marker = markers.get(period.start)
        if _needs(marker, raw):
            stale.append(period)
        elif (
            marker is not None
            and raw == marker.events
            and not is_final(period, marker.rolled_up_at)
            and is_final(period, now)
        ):
            complete.append(period)
    rows = repo.replace(bucket, stale, now) if stale else 0
    if complete:
        repo.confirm(bucket, complete, now)
    return stale, complete, rows


def _roll_day(
    period: Span, recent: bool, now: datetime, report: RollupReport, repo: FiguresRepository
) -> None:
    repo.lock()
    markers = repo.markers(Bucket.DAY, period.start, period.end)
    stale, complete, rows = _roll(
        repo, Bucket.DAY, [period], markers, repo.event_counts([period]), now
    )
    report.settled += [p.start for p in stale + complete]
    report.days += len(stale)
    report.rows += rows
    if not recent:
        return
    started = [hour for hour in hours(period) if hour.start <= now]
    markers = repo.markers(Bucket.HOUR, period.start, period.end)
    stale, _complete, rows = _roll(
        repo, Bucket.HOUR, started, markers, repo.event_counts(started), now
    )
    report.hours += len(stale)
    report.rows += rows


def _roll_months(now: datetime, zone: ZoneInfo, report: RollupReport, dry_run: bool) -> None:
    """Look at every month from the oldest rolled-up day's to today's (a few hundred marker
    rows, read at once) and rewrite, each in its own transaction, those that need it."""
    repo = FiguresRepository(read_session())
    oldest = repo.oldest_marker(Bucket.DAY)
    if oldest is None:
        read_session().rollback()
        return
    period, last = month(local_day(oldest, zone), zone), month(local_day(now, zone), zone)
    day_markers = repo.markers(Bucket.DAY, period.start, last.end)
    month_markers = repo.markers(Bucket.MONTH, period.start, last.end)
    read_session().rollback()
    while period.start <= last.start:
        summed = _summed_days(period, day_markers, zone)
        if _month_needs(summed, month_markers.get(period.start)):
            _in_transaction(partial(_roll_month, period, zone, report), dry_run)
        period = month(local_day(period.end, zone), zone)


def _summed_days(
    period: Span, markers: dict[datetime, Marker], zone: ZoneInfo
) -> tuple[datetime, int] | None:
    """The newest `rolled_up_at` and the events of a month's days if every one of them is
    final; None if not."""
    newest, events = period.start, 0
    # The last day by the calendar: the month's end minus 24 hours falls in the day before
    # it when that last day is 23 hours long (clocks going forward on the 31st).
    for day in days(local_day(period.start, zone), local_day(period.end, zone) - ONE_DAY, zone):
        marker = markers.get(day.start)
        if marker is None or not is_final(day, marker.rolled_up_at):
            return None
        newest, events = max(newest, marker.rolled_up_at), events + marker.events
    return newest, events


def _month_needs(summed: tuple[datetime, int] | None, marker: Marker | None) -> bool:
    """A complete month without rows, or whose rows no longer match its days (rolled up
    since, or counting other events); rows of a month that is no longer complete."""
    if summed is None:
        return marker is not None
    return marker is None or (marker.rolled_up_at, marker.events) != summed


def _roll_month(
    period: Span, zone: ZoneInfo, report: RollupReport, repo: FiguresRepository
) -> None:
    repo.lock()  # then look again: another run may have done it meanwhile
    summed = _summed_days(period, repo.markers(Bucket.DAY, period.start, period.end), zone)
    marker = repo.markers(Bucket.MONTH, period.start, period.end).get(period.start)
    if not _month_needs(summed, marker):
        return
    if summed is None:
        repo.delete_period(Bucket.MONTH, period.start)
        return
    report.months += 1
    report.rows += repo.sum_days(period, summed[0])


def _purge(now: datetime, zone: ZoneInfo, report: RollupReport, dry_run: bool) -> None:
    """Delete the raw events of days before the cutoff, one day per transaction, each only
    if its figures are final (a dry run counts the days it just rolled up as such)."""
    raw_days = max(int(current_app.config["KIOSK_ANALYTICS_RAW_DAYS"]), 0)
    # Never today's or yesterday's: those are rolled up again and again.
    cutoff: date = min(
        local_day(now - timedelta(days=raw_days), zone), local_day(now, zone) - ONE_DAY
    )
    repo = FiguresRepository(read_session())
    oldest = repo.oldest_event()
    read_session().rollback()
    if oldest is None:
        return
    for period in days(local_day(oldest, zone), cutoff - ONE_DAY, zone):
        _in_transaction(partial(_purge_day, period, now, report, dry_run), dry_run)


def _purge_day(
    period: Span, now: datetime, report: RollupReport, dry_run: bool, repo: FiguresRepository
) -> None:
    repo.lock()
    marker = repo.markers(Bucket.DAY, period.start, period.end).get(period.start)
    final = marker is not None and is_final(period, marker.rolled_up_at)
    if not final and not (dry_run and period.start in report.settled and is_final(period, now)):
        return
    report.purged += repo.delete_events(period)
