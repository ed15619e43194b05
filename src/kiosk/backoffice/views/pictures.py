"""A product's pictures for staff: upload several at once with an alt text, change each
alt text, move pictures up and down, remove them.

Plain forms first; with htmx the list re-renders in place. The upload form is a plain
browser submission even with JavaScript (`data-hx-boost="false"`): the browser shows
its own progress for a large upload, and a refused one (413) is shown as a page
instead of an error htmx would not swap in.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from kiosk.backoffice.access import Permission, allows, require
from kiosk.backoffice.forms import AltTextForm, MovePictureForm, PictureUploadForm
from kiosk.backoffice.views import bp
from kiosk.catalog import gallery
from kiosk.catalog.gallery import Rejection, Upload
from kiosk.errors import render_error
from kiosk.hypermedia import render_page, wants_fragment
from kiosk.validation import EmptyForm, search_text

MIB = 1024 * 1024
UPLOAD_ENDPOINT = "staff.upload_pictures"

REJECTIONS: dict[Rejection, Any] = {
    Rejection.EMPTY: _l("the file is empty."),
    Rejection.TOO_LARGE: _l("the file is larger than %(mb)d MB."),
    Rejection.NOT_A_PICTURE: _l("this is not a JPEG, PNG, WebP or GIF picture."),
    Rejection.DAMAGED: _l("the picture is damaged or incomplete and cannot be read."),
    Rejection.TOO_MANY_PIXELS: _l("the picture has more than %(mp)d million pixels."),
    Rejection.TOO_WIDE: _l("the picture is wider or taller than 16,383 pixels."),
    Rejection.DUPLICATE: _l("this picture is already among the product's pictures."),
}


def _may_upload() -> bool:
    return bool(current_user.is_authenticated) and allows(
        current_user.role, Permission.MANAGE_CATALOG
    )


@bp.url_value_preprocessor
def _picture_upload_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An upload of several photos may be larger than any other request. Its limit is
    set here because Flask-WTF's CSRF check reads the body before the view runs, and
    only for staff who may upload, so no one else makes the shop take in a large body."""
    if endpoint == UPLOAD_ENDPOINT and _may_upload():
        request.max_content_length = current_app.config["KIOSK_PICTURE_UPLOAD_MAX_MB"] * MIB


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """The pictures page again, with the limit at the file field (the body was never read,
    so there is nothing to keep); any other staff page gets the usual 413 page."""
    product_id = (request.view_args or {}).get("product_id")
    if (
        request.endpoint != UPLOAD_ENDPOINT
        or not _may_upload()
        or product_id is None
        or gallery.pictures_of(product_id) is None
    ):
        return render_error(413)
    form = PictureUploadForm(formdata=None)
    form.pictures.errors = [
        _(
            "The upload is larger than %(total)d MB altogether. Please send fewer pictures "
            "at once; each may be up to %(each)d MB.",
            total=current_app.config["KIOSK_PICTURE_UPLOAD_MAX_MB"],
            each=current_app.config["KIOSK_PICTURE_MAX_MB"],
        )
    ]
    return _page(product_id, 413, upload_form=form)


def _page(
    product_id: int,
    status: int = 200,
    upload_form: PictureUploadForm | None = None,
    failed_alt: AltTextForm | None = None,
    failed_image: int | None = None,
) -> ResponseReturnValue:
    """The pictures page (or, for htmx, the list); a failed form comes back with its input."""
    product = gallery.pictures_of(product_id)
    if product is None:
        abort(404)
    alt_forms = {
        image.id: failed_alt
        if failed_alt is not None and image.id == failed_image
        else AltTextForm(image.id, number, formdata=None, data={"alt": image.alt})
        for number, image in enumerate(product.images, start=1)
    }
    upload_form = upload_form or PictureUploadForm(formdata=None, data={"alt": product.name})
    return render_page(
        "staff/product_pictures.html",
        "staff/_product_pictures.html",
        status,
        product=product,
        upload_form=upload_form,
        alt_forms=alt_forms,
        action_form=EmptyForm(formdata=None),
        failed=[form for form in (upload_form, failed_alt) if form is not None],
        max_mb=current_app.config["KIOSK_PICTURE_MAX_MB"],
        max_files=current_app.config["KIOSK_PICTURE_MAX_FILES"],
    )


def _after_change(product_id: int) -> ResponseReturnValue:
    """htmx gets the fresh list in place; a plain form goes back to the page (303)."""
    if wants_fragment():
        return _page(product_id)
    return redirect(url_for("staff.product_pictures", product_id=product_id), code=303)


@bp.get("/products/<int:product_id>/pictures")
@require(Permission.MANAGE_CATALOG)
def product_pictures(product_id: int) -> ResponseReturnValue:
    """The product's pictures in the order the shop shows them, and the upload form."""
    return _page(product_id)


def _chosen_files() -> list[FileStorage]:
    """The files sent; a form sent with no file chosen carries one empty, nameless part."""
    return [f for f in request.files.getlist("pictures") if f.filename or f.content_length]


def _read(storage: FileStorage, limit: int) -> Upload:
    """The file's bytes, unless it is over the limit (then it is not read at all)."""
    name = search_text(storage.filename or "", 120) or _("(a file without a name)")
    stream = storage.stream
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    if size > limit:
        return Upload(name, b"", too_large=True)
    return Upload(name, stream.read(limit))


def _rejection_message(name: str, reason: Rejection) -> str:
    config = current_app.config
    text = REJECTIONS[reason] % {
        "mb": config["KIOSK_PICTURE_MAX_MB"],
        "mp": config["KIOSK_PICTURE_MAX_MEGAPIXELS"],
    }
    return f"{name}: {text}"


@bp.post("/products/<int:product_id>/pictures")
@require(Permission.MANAGE_CATALOG)
def upload_pictures(product_id: int) -> ResponseReturnValue:
    """Add one or several pictures with an alt text.

    Each good file is added and each bad one named with its reason (422): a broken
    file among ten costs the owner one file to send again, not ten.
    """
    config = current_app.config
    form = PictureUploadForm()
    files = _chosen_files()
    valid = form.validate()
    if not files:
        form.pictures.errors = [_("Please choose at least one picture.")]
    elif len(files) > config["KIOSK_PICTURE_MAX_FILES"]:
        form.pictures.errors = [
            _(
                "Please send at most %(num)d pictures at once.",
                num=config["KIOSK_PICTURE_MAX_FILES"],
            )
        ]
    if not valid or form.pictures.errors:
        return _page(product_id, 422, upload_form=form)
    if gallery.pictures_of(product_id) is None:
        abort(404)
    uploads = [_read(storage, config["KIOSK_PICTURE_MAX_MB"] * MIB) for storage in files]
    try:
        result = gallery.add_pictures(
            product_id,
            uploads,
            form.alt.data or "",
            current_user,
            config["KIOSK_PICTURE_MAX_MEGAPIXELS"] * 1_000_000,
        )
    except LookupError:
        abort(404)
    if result.added:
        added = len(result.added)
        flash(ngettext("%(num)d picture added.", "%(num)d pictures added.", added), "success")
    if result.rejected:
        form.pictures.errors = [_rejection_message(r.name, r.reason) for r in result.rejected]
        return _page(product_id, 422, upload_form=form)
    return redirect(url_for("staff.product_pictures", product_id=product_id), code=303)


@bp.post("/products/<int:product_id>/pictures/<int:image_id>/alt")
@require(Permission.MANAGE_CATALOG)
def describe_picture(product_id: int, image_id: int) -> ResponseReturnValue:
    """Change one picture's alt text."""
    product = gallery.pictures_of(product_id)
    if product is None:
        abort(404)
    number = next((i for i, im in enumerate(product.images, 1) if im.id == image_id), None)
    if number is None:
        abort(404)
    form = AltTextForm(image_id, number)
    if not form.validate():
        return _page(product_id, 422, failed_alt=form, failed_image=image_id)
    try:
        gallery.describe(product_id, image_id, form.alt.data or "", current_user)
    except LookupError:
        abort(404)
    flash(_("The alt text of picture %(num)d is saved.", num=number), "success")
    return _after_change(product_id)


@bp.post("/products/<int:product_id>/pictures/<int:image_id>/move")
@require(Permission.MANAGE_CATALOG)
def move_picture(product_id: int, image_id: int) -> ResponseReturnValue:
    """Move a picture one place up or down."""
    form = MovePictureForm()
    if not form.validate():
        abort(400)
    try:
        gallery.move(product_id, image_id, form.seen_at.data or 0, form.step, current_user)
    except LookupError:
        abort(404)
    except gallery.OrderChanged:
        flash(_("The order had changed in the meantime; here it is as it is now."), "error")
    return _after_change(product_id)


@bp.post("/products/<int:product_id>/pictures/<int:image_id>/delete")
@require(Permission.MANAGE_CATALOG)
def remove_picture(product_id: int, image_id: int) -> ResponseReturnValue:
    """Remove a picture from the product (its files go once nothing refers to them)."""
    if not EmptyForm().validate():
        abort(400)
    if gallery.remove(product_id, image_id, current_user):
        flash(_("The picture is removed."), "success")
    else:
        flash(_("That picture had already been removed."), "error")
    return _after_change(product_id)
