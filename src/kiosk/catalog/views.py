"""Browsing the catalog: listings with filters, sort, search and pages; product pages."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from kiosk.accounts.links import link_problem
from kiosk.accounts.tokens import TokenError
from kiosk.analytics.models import EventKind
from kiosk.analytics.tracking import track
from kiosk.catalog import recently_viewed
from kiosk.catalog import services as catalog
from kiosk.catalog.models import Product
from kiosk.extensions import limiter
from kiosk.hypermedia import render_page
from kiosk.inventory import alerts as stock_alerts
from kiosk.inventory.alerts import AlertRequest
from kiosk.inventory.forms import StockAlertForm
from kiosk.limits import rate
from kiosk.privacy.consent import allows
from kiosk.validation import EmptyForm, Form, InputProblem, parse_int

bp = Blueprint("catalog", __name__)


def _recently_viewed(leave_out: int | None = None) -> list[catalog.ProductLink]:
    """The "Recently viewed" links: only with consent to preferences (§25(1) TDDDG)."""
    if not allows("preferences"):
        return []
    return catalog.product_links(recently_viewed.viewed_ids(), leave_out)


def _listing(category_slug: str | None) -> Response:
    tree = catalog.category_tree()
    category = None
    if category_slug is not None:
        category = tree.by_slug(category_slug)
        if category is None:
            abort(404)
    query = catalog.ListingQuery.from_args(request.args)
    listing = catalog.list_products(
        query, current_app.config["KIOSK_PAGE_SIZE"], category=category, tree=tree
    )
    if query.page == 1:  # paging on is the same view, the same search
        if category is not None:
            track(EventKind.CATEGORY_VIEW, category_id=category.id)
        if query.q:
            track(
                EventKind.SEARCH,
                category_id=category.id if category else None,
                query=query.q,
                results=listing.total,
            )
    return render_page(
        "catalog/listing.html",
        "catalog/_results.html",
        listing=listing,
        category=category,
        tree=tree,
        trail=tree.ancestors(category.id if category else None),
        sort_labels=catalog.SORT_LABELS,
        recent=_recently_viewed(),
    )


@bp.get("/products")
def products() -> Response:
    """All products, or the search results for `q`."""
    return _listing(None)


@bp.get("/c/<slug>")
def category(slug: str) -> Response:
    """A category and everything below it in the tree."""
    return _listing(slug)


def _product_or_404(slug: str) -> Product:
    item = catalog.get_product(slug)
    if item is None:
        abort(404)
    return item


def _alert_form() -> Form:
    """A guest names an address; a signed-in shopper is mailed at the account's."""
    return EmptyForm() if current_user.is_authenticated else StockAlertForm()


def _product_page(
    item: Product, alert_form: Form, image_index: int = 0, status: int = 200
) -> ResponseReturnValue:
    tree = catalog.category_tree()
    page = render_template(
        "catalog/product.html",
        product=item,
        tree=tree,
        trail=tree.ancestors(item.category_id),
        image_index=image_index,
        low_stock=current_app.config["KIOSK_LOW_STOCK_HINT"],
        alert_form=alert_form,
        recent=_recently_viewed(leave_out=item.id),
    )
    return page, status


@bp.get("/p/<slug>")
def product(slug: str) -> ResponseReturnValue:
    """One product with gallery, price details, delivery time and stock."""
    item = _product_or_404(slug)
    try:
        image_index = parse_int(request.args.get("image", "0"))
    except InputProblem:
        image_index = 0
    if not 0 <= image_index < len(item.images):
        image_index = 0
    response = make_response(_product_page(item, _alert_form(), image_index))
    track(EventKind.PRODUCT_VIEW, product_id=item.id, category_id=item.category_id)
    if allows("preferences"):
        recently_viewed.remember(response, item.id)
    return response


@bp.post("/p/<slug>/notify")
@limiter.limit(rate("stock_alert"), methods=["POST"])
def notify(slug: str) -> ResponseReturnValue:
    """Ask for one mail when a sold-out product is back. The answer is the same
    whether or not the address was on the list already."""
    item = _product_or_404(slug)
    form = _alert_form()
    if not form.validate_on_submit():
        return _product_page(item, form, status=422)
    try:
        outcome = stock_alerts.request_alert(
            item.id,
            form.email.data if isinstance(form, StockAlertForm) else None,
            current_user.id if current_user.is_authenticated else None,
            str(get_locale()),
        )
    except LookupError:
        abort(404)
    if outcome is AlertRequest.SUBSCRIBED:
        flash(_("We will mail you once when %(name)s is back in stock.", name=item.name), "success")
    elif outcome is AlertRequest.IN_STOCK:
        flash(_("Good news: %(name)s is in stock.", name=item.name), "success")
    else:
        flash(
            _(
                "Thank you. If this address is not on the list yet, "
                "we have sent it a link to confirm."
            ),
            "success",
        )
    return redirect(url_for("catalog.product", slug=slug), code=303)


@bp.get("/back-in-stock/confirm/<token>")
def confirm_stock_alert(token: str) -> ResponseReturnValue:
    """The double opt-in link for a back-in-stock mail."""
    try:
        confirmed = stock_alerts.confirm_alert(token)
    except TokenError as error:
        return link_problem(error)
    if confirmed.in_stock:
        flash(_("Good news: %(name)s is in stock.", name=confirmed.product_name), "success")
    else:
        flash(
            _("We will mail you once when %(name)s is back in stock.", name=confirmed.product_name),
            "success",
        )
    return redirect(url_for("catalog.product", slug=confirmed.product_slug), code=303)
