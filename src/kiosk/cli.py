"""`flask kiosk …`: commands for the shop owner and for scheduled jobs."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, NoReturn
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from kiosk.accounts import services as accounts
from kiosk.accounts import two_factor
from kiosk.analytics import rollup
from kiosk.audit import services as audit
from kiosk.backoffice import imports, sales
from kiosk.catalog import pictures, product_csv
from kiosk.coupons import services as coupons
from kiosk.coupons.models import CouponKind
from kiosk.demo import services as demo
from kiosk.encryption import DataKeyError
from kiosk.inventory import product_import
from kiosk.inventory import services as inventory
from kiosk.mail import services as mail
from kiosk.money import Money, parse_decimal_percent
from kiosk.operations import backup
from kiosk.orders import card_payment, jobs, lifecycle, settlement
from kiosk.privacy import retention

kiosk_cli = AppGroup("kiosk", help="Kiosk shop commands.")


@kiosk_cli.command("seed-demo")
@click.option(
    "--if-empty/--always",
    default=True,
    show_default=True,
    help="Only seed when the shop has no products yet.",
)
def seed_demo_command(if_empty: bool) -> None:
    """Load the demo catalog from data/demo/ (pictures are drawn, not downloaded)."""
    try:
        result = demo.seed_demo(only_if_empty=if_empty)
    except product_csv.ImportRejected as rejected:
        _report_problems(rejected)
    if not result.seeded:
        click.echo("The shop already has products; the demo catalog was not loaded.")
        return
    assert result.categories and result.products
    click.echo(
        f"Demo catalog loaded: {result.categories.created} categories, "
        f"{result.products.created} products, {result.images} pictures drawn."
    )


def _report_problems(rejected: product_csv.ImportRejected) -> NoReturn:
    click.echo(f"Nothing was imported; the file has {len(rejected.problems)} problem(s):", err=True)
    for problem in rejected.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


def _import(file: Path, importer: Callable[[IO[str]], product_csv.ImportReport]) -> None:
    """Read the file as UTF-8 or, as German Excel writes it, Windows-1252 (and say so)."""
    try:
        decoded = product_csv.decode(file.read_bytes())
    except product_csv.UnreadableFile as unreadable:
        raise click.ClickException(f"{file.name} {unreadable}; nothing was imported.") from None
    if decoded.encoding != "UTF-8":
        click.echo(f"{file.name} is not UTF-8; read it as {decoded.encoding}.")
    try:
        report = importer(io.StringIO(decoded.text, newline=""))
    except product_csv.ImportRejected as rejected:
        _report_problems(rejected)
    click.echo(f"Imported: {report.created} created, {report.updated} updated.")


@kiosk_cli.command("import-products")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_products_command(file: Path) -> None:
    """Create or update products from a CSV file (all or nothing)."""
    _import(file, product_import.import_products)


@kiosk_cli.command("import-categories")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_categories_command(file: Path) -> None:
    """Create or update categories from a CSV file (all or nothing)."""
    _import(file, product_csv.import_categories)


@kiosk_cli.command("work-imports")
@click.option("--batch-rows", type=click.IntRange(min=1), help="Rows per transaction.")
def work_imports_command(batch_rows: int | None) -> None:
    """Run the back office's import jobs that wait or lost their runner (one pass).

    The web process runs them itself in a thread; this is for a process that was killed
    (the job goes on from its last committed batch) and for KIOSK_IMPORT_IN_BACKGROUND=0.
    """
    ran = imports.work_stalled(batch_rows)
    for job_id, status in ran:
        click.echo(f"Import job {job_id}: {status.value if status else 'held by another runner'}.")
    click.echo(f"Import jobs run: {len(ran)}.")


@kiosk_cli.command("export-products")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
def export_products_command(file: Path | None) -> None:
    """Write all products as CSV to FILE, or to standard output."""
    if file is None:
        count = product_csv.export_products(sys.stdout)
    else:
        with file.open("w", encoding="utf-8", newline="") as handle:
            count = product_csv.export_products(handle)
    click.echo(f"Exported {count} products.", err=True)


@kiosk_cli.command("create-admin")
@click.option("--email", prompt=True, help="The owner's email address.")
@click.option("--name", default="", help="The owner's name.")
def create_admin_command(email: str, name: str) -> None:
    """Create a shop owner (or make an existing account one). Asks for the password."""
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_owner(email, password, name)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{user.email} is now a shop owner.")


@kiosk_cli.command("audit-verify")
def audit_verify_command() -> None:
    """Check that no audit log entry was edited, removed or inserted since it was written:
    recompute the hash chain and name the first broken link (exit status 1)."""
    started = time.monotonic()
    result = audit.verify_log()
    seconds = time.monotonic() - started
    if result.broken is None:
        click.echo(
            f"The audit log is intact: {result.entries} entries checked in {seconds:.1f} s; "
            f"the last one's hash is {result.last_hash}."
        )
        return
    where = f"entry {result.broken.entry_id}" if result.broken.entry_id else "its end"
    click.echo(f"The audit log is broken at {where}: {result.broken.problem}.", err=True)
    sys.exit(1)


@kiosk_cli.command("send-mail")
def send_mail_command() -> None:
    """Send every message in the outbox that is due, once (for cron or a systemd timer)."""
    report = mail.deliver_due()
    click.echo(f"Mail: {report.sent} sent, {report.retrying} to retry, {report.failed} failed.")


@kiosk_cli.command("mail-worker")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
@click.option("--passes", default=0, help="Stop after this many passes (0: run until stopped).")
def mail_worker_command(interval: float, passes: int) -> None:
    """Keep sending the outbox; safe to run beside web workers and other senders."""
    done = 0
    while passes == 0 or done < passes:
        report = mail.deliver_due()
        if report.sent or report.retrying or report.failed:
            click.echo(
                f"Mail: {report.sent} sent, {report.retrying} to retry, {report.failed} failed."
            )
        done += 1
        if passes == 0 or done < passes:
            time.sleep(interval)


@kiosk_cli.command("release-expired")
def release_expired_command() -> None:
    """Give back stock held by checkouts whose reservation has run out (for a timer)."""
    click.echo(f"Released {inventory.release_expired()} expired reservation(s).")


def _when(value: str | None) -> datetime | None:
    """A local date or date-time from the command line, as UTC."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not a date like 2026-12-24 or 2026-12-24T18:00"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    return moment.astimezone(UTC)


@kiosk_cli.command("create-coupon")
@click.argument("code")
@click.option("--percent", help="Percent off the items, e.g. 10 or 12.5.")
@click.option("--amount", help="A fixed amount off the items, e.g. 5 or 7.50.")
@click.option("--min-order", default="0", show_default=True, help="Minimum value of the items.")
@click.option("--valid-from", help="First day (shop time zone), e.g. 2026-12-01.")
@click.option("--valid-until", help="Valid until, exclusive, e.g. 2027-01-01.")
@click.option("--max-uses", type=click.IntRange(min=1), help="Uses in total.")
@click.option("--per-customer", type=click.IntRange(min=1), help="Uses per customer (email).")
def create_coupon_command(
    code: str,
    percent: str | None,
    amount: str | None,
    min_order: str,
    valid_from: str | None,
    valid_until: str | None,
    max_uses: int | None,
    per_customer: int | None,
) -> None:
    """Add a coupon code: a percentage or a fixed amount off the items."""
    if (percent is None) == (amount is None):
        raise click.UsageError("give either --percent or --amount")
    currency = current_app.config["KIOSK_CURRENCY"]
    try:
        if percent is not None:
            kind, value = CouponKind.PERCENT, parse_decimal_percent(percent)
        else:
            kind, value = CouponKind.FIXED, Money.parse(amount or "", currency).cents
        coupon = coupons.create(
            coupons.NewCoupon(
                code=code,
                kind=kind,
                value=value,
                currency=currency,
                min_order_cents=Money.parse(min_order, currency).cents,
                valid_from=_when(valid_from),
                valid_until=_when(valid_until),
                max_uses=max_uses,
                max_uses_per_customer=per_customer,
            )
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Coupon {coupon.code} created.")


@kiosk_cli.command("reconcile-payments")
def reconcile_payments_command() -> None:
    """Re-read open card payments from Stripe and apply what a lost webhook missed."""
    if not current_app.config["STRIPE_SECRET_KEY"]:
        click.echo("Stripe is not configured; nothing to reconcile.")
        return
    outcomes = card_payment.reconcile()
    click.echo(
        "Reconciled: "
        + (", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())) or "none open")
    )


@kiosk_cli.command("lifecycle-diagram")
def lifecycle_diagram_command() -> None:
    """Print the order lifecycle table as a Mermaid diagram (for docs/order-lifecycle.md)."""
    click.echo(lifecycle.mermaid(), nl=False)


@kiosk_cli.command("order-jobs")
def order_jobs_command() -> None:
    """Remind and later cancel unpaid prepayment orders, assume delivery if set, retry refunds
    of cancelled card orders (for a timer)."""
    report = jobs.run()
    click.echo(
        f"Reminded {report.reminded}, cancelled {report.cancelled}, "
        f"marked delivered {report.delivered}, refunded {report.refunded} order(s)."
    )


@kiosk_cli.command("privacy-jobs")
@click.option("--dry-run", is_flag=True, help="Print what each rule would do; change nothing.")
def privacy_jobs_command(dry_run: bool) -> None:
    """Apply the personal-data map's retention rules and run postponed erasures (daily)."""
    results = retention.run(dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for result in results:
        click.echo(f"{result.rule}: {verb} {result.count}")


@kiosk_cli.command("analytics-rollup")
@click.option(
    "--dry-run", is_flag=True, help="Print what would be rolled up and deleted; change nothing."
)
def analytics_rollup_command(dry_run: bool) -> None:
    """Add the analytics' raw events up into daily and hourly figures, sum complete months,
    and delete raw events older than KIOSK_ANALYTICS_RAW_DAYS; add the sales of closed days
    and months up for the dashboard (every 10 minutes; safe to run again)."""
    report = rollup.roll_up(dry_run=dry_run)
    would = "would be " if dry_run else ""
    click.echo(
        f"Analytics: {report.days} day(s) and {report.hours} hour(s) {would}rolled up, "
        f"{report.months} month(s) {would}summed ({report.rows} rows), "
        f"{report.purged} raw event(s) {would}deleted."
    )
    sold = sales.roll_up(dry_run=dry_run)
    click.echo(
        f"Sales: {sold.days} day(s) and {sold.months} month(s) {would}rolled up ({sold.rows} rows)."
    )


@kiosk_cli.command("backup")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the archive. Default: KIOSK_BACKUP_DIR (data/backups).",
)
@click.option(
    "--keep",
    type=click.IntRange(min=0),
    help="Keep the newest N archives in the folder, delete older ones (0: keep all). "
    "Default: KIOSK_BACKUP_KEEP (14).",
)
def backup_command(directory: Path | None, keep: int | None) -> None:
    """Back up the database (consistent while the shop runs), the pictures and the generated
    secret key into one archive (for a daily timer)."""
    directory = directory or Path(current_app.config["KIOSK_BACKUP_DIR"])
    keep = current_app.config["KIOSK_BACKUP_KEEP"] if keep is None else keep
    try:
        report = backup.create_backup(directory, keep)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    megabytes = report.path.stat().st_size / 1_048_576
    click.echo(
        f"Backup written: {report.path} ({megabytes:.1f} MB): {report.manifest.contents}; "
        f"schema {', '.join(report.manifest.revision)}."
    )
    for old in report.removed:
        click.echo(f"Removed the older backup {old.name}.")


@kiosk_cli.command("rotate-key")
def rotate_key_command() -> None:
    """Re-encrypt every stored secret (TOTP secrets) with the newest key of KIOSK_DATA_KEYS,
    in one transaction; afterwards the older keys can leave the setting. Safe to repeat."""
    try:
        rotation = two_factor.reencrypt_totp_secrets()
    except DataKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"TOTP secrets: {rotation.reencrypted} re-encrypted with the newest key, "
        f"{rotation.already_current} already under it."
    )


@kiosk_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace a database and pictures that hold data.")
def restore_command(file: Path, yes: bool) -> None:
    """Put a backup archive's database and pictures in place of the configured ones.
    Stop the shop first."""
    try:
        report = backup.restore_backup(file, replace=yes)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored the backup of {report.manifest.created_at}: {report.manifest.contents}.")
    if report.migrated_from:
        click.echo(f"Its schema was upgraded from {', '.join(report.migrated_from)}.")
    for note in report.notes:
        click.echo(f"Note: {note}.")


@kiosk_cli.command("picture-variants")
def picture_variants_command() -> None:
    """Make the sized WebP variants of every product picture that has none yet
    (pictures added before variants existed); safe to run again."""
    report = pictures.make_missing_variants()
    click.echo(
        f"{report.pictures} picture(s) have their variants; "
        f"{report.updated} product picture(s) updated."
    )
    for name in report.missing:
        click.echo(f"  not in the media folder: {name}", err=True)
    for name in report.unreadable:
        click.echo(f"  not a picture that can be read: {name}", err=True)
    if report.missing or report.unreadable:
        sys.exit(1)


@kiosk_cli.command("repair-payments")
def repair_payments_command() -> None:
    """Record the payment of orders set to "paid" by the old status button without it, and
    flag those it set to "refunded" without a refund (run once after upgrading; safe to
    run again)."""
    repair = settlement.repair_paid_without_payment()
    if repair.recorded:
        click.echo(
            f"Recorded the payment of {len(repair.recorded)} order(s): "
            + ", ".join(repair.recorded)
        )
    if repair.flagged:
        click.echo(
            "Card payment never confirmed, flagged for checking in Stripe: "
            + ", ".join(repair.flagged)
        )
    if repair.unrefunded:
        click.echo(
            "Set to refunded without a recorded refund, flagged for staff to record it: "
            + ", ".join(repair.unrefunded)
        )
    if not (repair.recorded or repair.flagged or repair.unrefunded):
        click.echo("Nothing to repair.")
