"""Categories for staff: the tree with counts, and what staff do to a category (create,
rename, move, reorder, show or hide in the shop, delete or move its contents and delete)."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from kiosk.backoffice.access import Permission, require
from kiosk.backoffice.forms import (
    TOP_LEVEL,
    CategoryForm,
    DeleteCategoryForm,
    MoveCategoryForm,
    RenameCategoryForm,
    ReorderCategoryForm,
)
from kiosk.backoffice.views import bp
from kiosk.catalog import categories
from kiosk.catalog.categories import CategoryProblem, TreeRow
from kiosk.hypermedia import render_page, wants_fragment
from kiosk.validation import EmptyForm, Form

PROBLEMS = {
    "slug_format": _l(
        "An address may hold only lower-case letters, digits and single hyphens, such as green-tea."
    ),
    "slug_taken": _l("Another category has this address already. Please choose another."),
    "no_parent": _l("That category no longer exists. Please choose another."),
    "cycle": _l("A category cannot sit below itself or one of its own subcategories."),
    "not_empty": _l(
        "This category holds products or subcategories. Choose where they go, then delete."
    ),
}


def _choices(rows: list[TreeRow], exclude: set[int], top: str) -> list[SelectChoice]:
    """The categories as select options, indented by depth, without `exclude`."""
    return [SelectChoice(TOP_LEVEL, top)] + [
        SelectChoice(str(row.id), "\u2003" * row.depth + row.name)
        for row in rows
        if row.id not in exclude
    ]


def _create_form(rows: list[TreeRow], formdata: bool = True) -> CategoryForm:
    form = CategoryForm() if formdata else CategoryForm(formdata=None)
    form.parent.choices = _choices(rows, set(), str(_("None (top level)")))
    return form


def _tree_page(form: CategoryForm | None = None, status: int = 200) -> ResponseReturnValue:
    rows = categories.staff_tree()
    return render_page(
        "staff/categories.html",
        "staff/_category_tree.html",
        status=status,
        rows=rows,
        form=form or _create_form(rows, formdata=False),
        button_form=EmptyForm(formdata=None),
        failed=[form] if form else [],
    )


@bp.get("/categories")
@require(Permission.MANAGE_CATALOG)
def categories_tree() -> ResponseReturnValue:
    """Every category as an indented tree, with its products and whether shoppers see it."""
    return _tree_page()


def _at_field(form: Form, problem: CategoryProblem) -> None:
    field = getattr(form, problem.field)
    field.errors = [*field.errors, PROBLEMS[problem.code]]


@bp.post("/categories/new")
@require(Permission.MANAGE_CATALOG)
def create_category() -> ResponseReturnValue:
    """Add a category at the end of its parent's list."""
    form = _create_form(categories.staff_tree())
    if form.validate():
        try:
            category_id = categories.create(
                current_user.id, form.name.data or "", form.slug.data or "", form.parent_id()
            )
            flash(_("The category %(name)s is created.", name=form.name.data), "success")
            return redirect(url_for("staff.category", category_id=category_id), code=303)
        except CategoryProblem as problem:
            _at_field(form, problem)
    return _tree_page(form, 422)


def _category_page(
    category_id: int,
    rename_form: RenameCategoryForm | None = None,
    move_form: MoveCategoryForm | None = None,
    delete_form: DeleteCategoryForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    rows = categories.staff_tree()
    row = next((r for r in rows if r.id == category_id), None)
    if row is None:
        abort(404)
    inside = categories.descendant_ids(rows, row.id)
    if rename_form is None:
        rename_form = RenameCategoryForm(formdata=None, data={"name": row.name, "slug": row.slug})
    if move_form is None:
        move_form = MoveCategoryForm(formdata=None, data={"parent": str(row.parent_id or "")})
    move_form.parent.choices = _choices(rows, inside, str(_("None (top level)")))
    if delete_form is None:
        delete_form = DeleteCategoryForm(formdata=None)
    delete_form.move_to.choices = _choices(rows, inside, str(_("Choose a category")))
    return render_page(
        "staff/category.html",
        "staff/category.html",
        status=status,
        category=row,
        children=[r for r in rows if r.parent_id == row.id],
        parent=next((r for r in rows if r.id == row.parent_id), None),
        rename_form=rename_form,
        move_form=move_form,
        delete_form=delete_form,
        button_form=EmptyForm(formdata=None),
        failed=[f for f in (rename_form, move_form, delete_form) if f.errors],
    )


@bp.get("/categories/<int:category_id>")
@require(Permission.MANAGE_CATALOG)
def category(category_id: int) -> ResponseReturnValue:
    """One category: rename, move, show or hide, delete."""
    return _category_page(category_id)


def _back_to(category_id: int) -> ResponseReturnValue:
    return redirect(url_for("staff.category", category_id=category_id), code=303)


def _change(
    category_id: int, form: Form, change: Callable[[], bool], done: str, failed: str
) -> ResponseReturnValue:
    """Run one change of a category's page form: back to the page when it is done (or
    there was nothing to do), or the page again with the form's problem at its field."""
    if form.validate():
        try:
            if change():
                flash(done, "success")
            return _back_to(category_id)
        except LookupError:
            abort(404)
        except CategoryProblem as problem:
            _at_field(form, problem)
    return _category_page(category_id, status=422, **{failed: form})


@bp.post("/categories/<int:category_id>/rename")
@require(Permission.MANAGE_CATALOG)
def rename_category(category_id: int) -> ResponseReturnValue:
    """Change a category's name and address (slug)."""
    form = RenameCategoryForm()
    return _change(
        category_id,
        form,
        lambda: categories.rename(
            current_user.id, category_id, form.name.data or "", form.slug.data or ""
        ),
        _("The category is renamed."),
        "rename_form",
    )


@bp.post("/categories/<int:category_id>/move")
@require(Permission.MANAGE_CATALOG)
def move_category(category_id: int) -> ResponseReturnValue:
    """Put a category (and what is below it) under another parent or at the top."""
    form = MoveCategoryForm()
    form.parent.choices = _choices(categories.staff_tree(), set(), "")
    return _change(
        category_id,
        form,
        lambda: categories.move(current_user.id, category_id, form.parent_id()),
        _("The category is moved."),
        "move_form",
    )


@bp.post("/categories/<int:category_id>/reorder")
@require(Permission.MANAGE_CATALOG)
def reorder_category(category_id: int) -> ResponseReturnValue:
    """Move a category one place up or down among its siblings; htmx gets the fresh tree."""
    form = ReorderCategoryForm()
    if not form.validate():
        abort(400)
    try:
        up = form.direction.data == "up"
        if not categories.reorder(current_user.id, category_id, up, form.position.data or 0):
            flash(_("The list had changed already; here it is as it is now."), "info")
    except LookupError:
        abort(404)
    if wants_fragment():
        return _tree_page()
    return redirect(url_for("staff.categories_tree", _anchor=f"category-{category_id}"), code=303)


def _set_active(category_id: int, active: bool) -> ResponseReturnValue:
    if not EmptyForm().validate():
        abort(400)
    try:
        categories.set_active(current_user.id, category_id, active)
    except LookupError:
        abort(404)
    if active:
        flash(_("The category shows in the shop again."), "success")
    else:
        flash(
            _(
                "The category and its subcategories are hidden from the shop. "
                "Their products stay on sale and can still be found."
            ),
            "success",
        )
    return _back_to(category_id)


@bp.post("/categories/<int:category_id>/deactivate")
@require(Permission.MANAGE_CATALOG)
def deactivate_category(category_id: int) -> ResponseReturnValue:
    """Hide a category and everything below it from the shop front."""
    return _set_active(category_id, False)


@bp.post("/categories/<int:category_id>/activate")
@require(Permission.MANAGE_CATALOG)
def activate_category(category_id: int) -> ResponseReturnValue:
    """Show a hidden category in the shop front again."""
    return _set_active(category_id, True)


@bp.post("/categories/<int:category_id>/delete")
@require(Permission.MANAGE_CATALOG)
def delete_category(category_id: int) -> ResponseReturnValue:
    """Delete an empty category, or move its products and subcategories and delete it."""
    form = DeleteCategoryForm()
    form.move_to.choices = _choices(categories.staff_tree(), set(), "")
    if form.validate():
        try:
            deleted = categories.delete(current_user.id, category_id, form.target_id())
            flash(_("The category %(name)s is deleted.", name=deleted.name), "success")
            return redirect(url_for("staff.categories_tree"), code=303)
        except LookupError:
            abort(404)
        except CategoryProblem as problem:
            _at_field(form, problem)
    return _category_page(category_id, delete_form=form, status=422)
