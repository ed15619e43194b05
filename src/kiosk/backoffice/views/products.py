"""Products for staff: the list with filters, pages, a CSV of what it shows and bulk actions;
one product to create or edit (with a Markdown preview), copy, delete or archive."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from kiosk.backoffice import products
from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.product_forms import (
    MAX_DESCRIPTION,
    BulkForm,
    PriceChangeForm,
    ProductForm,
    money_input,
)
from kiosk.backoffice.products import Removal
from kiosk.backoffice.views import bp
from kiosk.catalog import editing
from kiosk.catalog.editing import STATUSES, STOCK_STATES, Clash, PriceRefused, StaffFilter
from kiosk.catalog.models import Product
from kiosk.hypermedia import page_count, page_number, render_page, safe_next
from kiosk.markdown import render_markdown
from kiosk.validation import EmptyForm, InputProblem, check_text, parse_int, search_text

PRODUCTS_PER_PAGE = 50
MAX_SELECTION = 1000


def _filter_from(args: Mapping[str, str]) -> StaffFilter:
    """The list's filter from the query string; an unknown value counts as "any"."""
    try:
        category_id: int | None = parse_int(args.get("category") or "", minimum=1)
    except InputProblem:
        category_id = None
    status, stock, sort = args.get("status", ""), args.get("stock", ""), args.get("sort", "")
    return StaffFilter(
        search=search_text(args.get("q", ""), 100),
        category_id=category_id,
        status=status if status in STATUSES else "",
        stock=stock if stock in STOCK_STATES else "",
        sort=sort if sort in editing.STAFF_SORT_KEYS else "name",
    )


def _list_url() -> str:
    """The list as staff left it (filters and page) to go back to after an action."""
    return safe_next(request.values.get("back"), url_for("staff.products_list"))


@bp.get("/products")
@require(Permission.MANAGE_CATALOG)
def products_list() -> ResponseReturnValue:
    """Every product, searched, filtered, sorted, 50 a page; htmx swaps only the results."""
    filters = _filter_from(request.args)
    page = page_number()
    rows, total = editing.staff_list(filters, page, PRODUCTS_PER_PAGE)
    categories = editing.category_choices()
    return render_page(
        "staff/products.html",
        "staff/_products.html",
        products=rows,
        total=total,
        page_number=page,
        pages=page_count(total, PRODUCTS_PER_PAGE),
        filters=filters,
        categories=categories,
        bulk_form=BulkForm(categories, formdata=None),
        price_form=PriceChangeForm(formdata=None),
        sorts=editing.STAFF_SORT_KEYS,
    )


@bp.get("/products.csv")
@require(Permission.MANAGE_CATALOG)
def products_csv() -> ResponseReturnValue:
    """The filtered list (all pages) as the CSV file `flask kiosk import-products` reads."""
    buffer = io.StringIO()
    editing.export_csv(buffer, _filter_from(request.args))
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=products.csv"},
    )


def _product_page(
    form: ProductForm, product: Product | None, status: int = 200, preview: str | None = None
) -> ResponseReturnValue:
    """The product form (new or edit); a preview request with htmx gets only the preview."""
    return render_page(
        "staff/product.html",
        "staff/_markdown_preview.html",
        status,
        form=form,
        product=product,
        preview=preview,
        removal_form=EmptyForm(formdata=None),
        price_example=money_input(1290),
        may_delete=product is not None and products.may_delete(product.id),
    )


def _preview(form: ProductForm, product: Product | None) -> ResponseReturnValue:
    """The form as typed, with its description rendered as the shop will show it."""
    text = (form.description.data or "").replace("\r\n", "\n")
    try:
        check_text(text, MAX_DESCRIPTION, multiline=True)
    except InputProblem as problem:
        form.description.errors = [str(problem)]
        return _product_page(form, product, 422)
    return _product_page(form, product, preview=render_markdown(text))


def _clash_at_field(form: ProductForm, clash: Clash) -> None:
    if clash.column == "slug":
        form.slug.data = clash.value  # a slug made from the name: show which one clashed
        message = _(
            "The web address %(slug)s is already used by the product %(sku)s."
            " Please choose another.",
            slug=clash.value,
            sku=clash.owner_sku,
        )
        form.slug.errors = [*form.slug.errors, message]
    else:
        message = _("The SKU %(sku)s is already used by another product.", sku=clash.value)
        form.sku.errors = [*form.sku.errors, message]


@bp.route("/products/new", methods=["GET", "POST"])
@require(Permission.MANAGE_CATALOG)
def new_product() -> ResponseReturnValue:
    """A new product: every field of the catalog, with errors at their fields."""
    form = ProductForm(editing.category_choices())
    if request.method == "GET":
        return _product_page(form, None)
    if "preview" in request.form:
        return _preview(form, None)
    if not form.validate():
        return _product_page(form, None, 422)
    try:
        product_id = products.create_product(current_user.id, form.values())
    except Clash as clash:
        _clash_at_field(form, clash)
        return _product_page(form, None, 422)
    flash(_("The product is saved."), "success")
    return redirect(url_for("staff.product", product_id=product_id), code=303)


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_CATALOG)
def product(product_id: int) -> ResponseReturnValue:
    """One product's fields to change; saved only when all of them are right."""
    found = editing.product_for_staff(product_id)
    if found is None:
        abort(404)
    categories = editing.category_choices()
    if request.method == "GET":
        return _product_page(ProductForm(categories, data=ProductForm.initial(found)), found)
    form = ProductForm(categories)
    if "preview" in request.form:
        return _preview(form, found)
    if not form.validate():
        return _product_page(form, found, 422)
    try:
        changed = products.update_product(current_user.id, product_id, form.values())
    except LookupError:
        abort(404)
    except Clash as clash:
        _clash_at_field(form, clash)
        return _product_page(form, found, 422)
    flash(_("The product is saved.") if changed else _("Nothing was changed."), "success")
    return redirect(url_for("staff.product", product_id=product_id), code=303)


def _check_button_form() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.post("/products/<int:product_id>/duplicate")
@require(Permission.MANAGE_CATALOG)
def duplicate_product(product_id: int) -> ResponseReturnValue:
    """Copy the product as an inactive one and open the copy."""
    _check_button_form()
    try:
        copy_id = products.duplicate_product(current_user.id, product_id)
    except LookupError:
        abort(404)
    flash(_("This is an inactive copy. Check its name, web address and SKU."), "success")
    return redirect(url_for("staff.product", product_id=copy_id), code=303)


@bp.post("/products/<int:product_id>/delete")
@require(Permission.MANAGE_CATALOG)
def delete_product(product_id: int) -> ResponseReturnValue:
    """Delete the product, or archive it when orders refer to it; the message says which."""
    _check_button_form()
    try:
        removal = products.remove_product(current_user.id, product_id)
    except LookupError:
        flash(_("The product was deleted already."), "success")
        return redirect(url_for("staff.products_list"), code=303)
    if removal is Removal.DELETED:
        flash(_("The product is deleted."), "success")
        return redirect(url_for("staff.products_list"), code=303)
    if removal is Removal.ARCHIVED:
        flash(
            _(
                "Orders refer to this product, so it was archived instead of deleted: it is"
                " inactive and left out of the product list (the filter “Archived” shows it)."
            ),
            "success",
        )
    else:
        flash(_("The product was archived already."), "success")
    return redirect(url_for("staff.product", product_id=product_id), code=303)


@bp.post("/products/<int:product_id>/restore")
@require(Permission.MANAGE_CATALOG)
def restore_product(product_id: int) -> ResponseReturnValue:
    """Take an archived product back into the list (it stays inactive until activated)."""
    _check_button_form()
    try:
        restored = products.restore_product(current_user.id, product_id)
    except LookupError:
        abort(404)
    if restored:
        flash(_("The product is back in the list, still inactive."), "success")
    return redirect(url_for("staff.product", product_id=product_id), code=303)


def _selection(values: Iterable[str]) -> list[int]:
    """The ticked product ids; anything that is no id is left out."""
    ids: list[int] = []
    for value in values:
        try:
            ids.append(parse_int(value, minimum=1))
        except InputProblem:
            continue
    return sorted(set(ids))[:MAX_SELECTION]


@bp.post("/products/bulk")
@require(Permission.MANAGE_CATALOG)
def bulk_products() -> ResponseReturnValue:
    """Activate, deactivate or move the ticked products; a price change goes to its preview."""
    back = _list_url()
    form = BulkForm(editing.category_choices())
    if not form.validate():
        abort(400)
    ids = _selection(request.form.getlist("product"))
    action = request.form.get("action", "")
    if not ids:
        flash(_("Please tick at least one product first."), "error")
        return redirect(back, code=303)
    if action == "price":
        typed: dict[str, Any] = {
            name: request.form.get(name, "") for name in ("change_by", "direction", "amount")
        }
        preview = url_for("staff.price_preview", product=ids, back=back, **typed)
        return redirect(preview, code=303)
    if action in ("activate", "deactivate"):
        count = products.set_active(current_user.id, ids, action == "activate")
        if action == "activate":
            message = ngettext("%(num)d product activated.", "%(num)d products activated.", count)
        else:
            message = ngettext(
                "%(num)d product deactivated.", "%(num)d products deactivated.", count
            )
    elif action == "move":
        try:
            count = products.move_to_category(current_user.id, ids, form.category_id())
        except (ValueError, LookupError):
            flash(_("Please choose a category from the list."), "error")
            return redirect(back, code=303)
        message = ngettext("%(num)d product moved.", "%(num)d products moved.", count)
    else:
        flash(_("Please choose what to do with the selection."), "error")
        return redirect(back, code=303)
    flash(
        message if count else _("Nothing to change: the selection was like that already."),
        "success",
    )
    return redirect(back, code=303)


def _price_page(
    form: PriceChangeForm, ids: list[int], back: str, status: int = 200
) -> ResponseReturnValue:
    lines = editing.plan_prices(ids, form.change) if status == 200 and ids else []
    return (
        render_template(
            "staff/product_prices.html",
            form=form,
            lines=lines,
            ids=ids,
            back=back,
            apply_form=EmptyForm(formdata=None),
            refused=any(line.problem for line in lines),
        ),
        status,
    )


@bp.get("/products/prices")
@require(Permission.MANAGE_CATALOG)
def price_preview() -> ResponseReturnValue:
    """Old and new price of each selected product, before anything changes."""
    form = PriceChangeForm(formdata=request.args, meta={"csrf": False})
    ids = _selection(request.args.getlist("product"))
    return _price_page(form, ids, _list_url(), 200 if form.validate() else 422)


def _expected(values: Iterable[str]) -> dict[int, int]:
    """The prices the preview showed, sent back as "id:cents"."""
    expected: dict[int, int] = {}
    for value in values:
        product_id, _sep, cents = value.partition(":")
        try:
            expected[parse_int(product_id, minimum=1)] = parse_int(cents, minimum=0)
        except InputProblem:
            continue
    return dict(list(expected.items())[:MAX_SELECTION])


@bp.post("/products/prices")
@require(Permission.MANAGE_CATALOG)
def apply_prices() -> ResponseReturnValue:
    """Apply the previewed change to the prices still as shown; a repeat changes nothing."""
    form = PriceChangeForm()
    back = _list_url()
    expected = _expected(request.form.getlist("expected"))
    if not form.validate():
        return _price_page(form, list(expected), back, 422)
    try:
        lines, stale = products.change_prices(current_user.id, form.change, expected)
    except PriceRefused:
        flash(
            _("Some prices changed meanwhile and would now be refused; nothing was changed."),
            "error",
        )
        return redirect(
            url_for(
                "staff.price_preview",
                product=list(expected),
                back=back,
                change_by=form.change_by.data,
                direction=form.direction.data,
                amount=form.amount.data,
            ),
            code=303,
        )
    if lines:
        flash(ngettext("%(num)d price changed.", "%(num)d prices changed.", len(lines)), "success")
        if stale:
            flash(
                ngettext(
                    "%(num)d price was no longer the one shown, so it was left as it is.",
                    "%(num)d prices were no longer the ones shown, so they were left as they are.",
                    stale,
                ),
                "error",
            )
    elif stale:
        flash(_("These prices were changed already; nothing was changed again."), "success")
    return redirect(back, code=303)
