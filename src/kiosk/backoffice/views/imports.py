"""CSV import in the browser: upload a file, see its dry run, apply it, watch the progress.

The work runs outside the request (`kiosk.backoffice.imports` says where and why); these
pages only store the file, start the job and show how far it has come.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from kiosk.backoffice import imports
from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.forms import ImportForm
from kiosk.backoffice.models import ImportKind, ImportStatus
from kiosk.backoffice.views import bp
from kiosk.hypermedia import render_page, wants_fragment
from kiosk.validation import EmptyForm

# Seconds between reloads of the progress page when staff without JavaScript ask for them.
FOLLOW_SECONDS = 3
# htmx stops polling when a reply has this status (the job has finished).
STOP_POLLING = 286

STATUS_LABELS = {
    ImportStatus.UPLOADED: _l("Waiting for its check"),
    ImportStatus.CHECKING: _l("Checking"),
    ImportStatus.CHECKED: _l("Checked"),
    ImportStatus.APPLYING: _l("Applying"),
    ImportStatus.DONE: _l("Done"),
    ImportStatus.FAILED: _l("Stopped"),
}
KIND_LABELS = {ImportKind.PRODUCTS: _l("Products"), ImportKind.CATEGORIES: _l("Categories")}
UNREADABLE = _l(
    "This is not a CSV text file the shop can read (it is binary data, UTF-16 or in an"
    " unknown encoding). Please save it from the spreadsheet as “CSV UTF-8” or plain “CSV”."
)


def _imports_page(form: ImportForm, status: int = 200) -> ResponseReturnValue:
    page = render_template(
        "staff/imports.html",
        form=form,
        jobs=imports.recent(),
        max_mb=current_app.config["KIOSK_IMPORT_MAX_MB"],
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
    )
    return page, status


@bp.get("/imports")
@require(Permission.MANAGE_CATALOG)
def imports_page() -> ResponseReturnValue:
    """Upload a CSV file of products or categories; the recent imports."""
    return _imports_page(ImportForm(formdata=None))


@bp.post("/imports")
@require(Permission.MANAGE_CATALOG)
def upload_import() -> ResponseReturnValue:
    """Store the file as an import job and start its dry run; problems go to the file field."""
    form = ImportForm()
    valid = form.validate()
    upload = request.files.get("file")
    limit = current_app.config["KIOSK_IMPORT_MAX_MB"] * 1024 * 1024
    data = upload.read(limit + 1) if upload else b""
    if upload is None or (not upload.filename and not data):
        form.file.errors.append(_("Please choose a CSV file."))
    elif len(data) > limit:
        mb = current_app.config["KIOSK_IMPORT_MAX_MB"]
        form.file.errors.append(_("The file is larger than %(mb)d MB.", mb=mb))
    elif not data:
        form.file.errors.append(_("The file is empty."))
    if not valid or form.file.errors:
        return _imports_page(form, 422)
    assert upload is not None
    try:
        job_id = imports.upload(
            current_user.id, ImportKind(form.kind.data), upload.filename or "", data
        )
    except imports.UnreadableFile:
        form.file.errors.append(str(UNREADABLE))
        return _imports_page(form, 422)
    imports.start(job_id)
    return redirect(url_for("staff.import_job", job_id=job_id), code=303)


@bp.get("/imports/<int:job_id>")
@require(Permission.MANAGE_CATALOG)
def import_job(job_id: int) -> ResponseReturnValue:
    """One import: its progress, then the dry run's summary and problems, then "Apply".

    With htmx the progress region asks for itself every second, and the reply that shows
    the job finished stops the polling. Without JavaScript the page does not reload on
    its own unless staff ask for it (`?follow=1`); see the template for why.
    """
    imports.resume_if_stalled(job_id)
    job = imports.job(job_id)
    if job is None:
        abort(404)
    follow = request.args.get("follow") == "1"
    running = job.status.running
    status = STOP_POLLING if wants_fragment() and not running else 200
    response = render_page(
        "staff/import_job.html",
        "staff/_import_job.html",
        status,
        job=job,
        form=EmptyForm(),
        follow=follow,
        follow_seconds=FOLLOW_SECONDS,
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
    )
    if follow and running:
        response.headers["Refresh"] = str(FOLLOW_SECONDS)
    return response


@bp.post("/imports/<int:job_id>/apply")
@require(Permission.MANAGE_CATALOG)
def apply_import(job_id: int) -> ResponseReturnValue:
    """Write a checked file, batch by batch; a second submit changes nothing."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    if imports.job(job_id) is None:
        abort(404)
    if imports.apply(current_user.id, job_id):
        imports.start(job_id)
        flash(_("The import is being applied."), "success")
    else:
        flash(_("This import is not waiting to be applied; it may be applied already."), "error")
    return redirect(url_for("staff.import_job", job_id=job_id), code=303)
